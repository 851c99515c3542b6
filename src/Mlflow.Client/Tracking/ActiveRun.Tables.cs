using Mlflow.Client.Artifacts;

namespace Mlflow.Client;

public sealed partial class ActiveRun
{
    private static readonly System.Buffers.SearchValues<char> TableFileForbidden = System.Buffers.SearchValues.Create("\"',:[]{}");

    /// <summary>Serializes the read-modify-write of tables and of the list tags (two calls on one file append in order).</summary>
    private readonly SemaphoreSlim _listLock = new(1, 1);

    /// <summary>This run's values of <c>mlflow.loggedArtifacts</c> and <c>mlflow.log-model.history</c>, read from the store once, then kept here.</summary>
    private readonly Dictionary<string, string?> _listTags = new(StringComparer.Ordinal);

    /// <summary>
    /// Logs a table as MLflow's table artifact (what <c>mlflow.log_table</c> writes and <c>mlflow.load_table</c> reads)
    /// and lists it in the run tag <c>mlflow.loggedArtifacts</c> (<c>{"path": ..., "type": "table"}</c>, once), so
    /// MLflow's UI shows it in the evaluation view. When the run already has that file, the rows are appended to the
    /// rows it holds (read back from the run's artifacts), as <c>log_table</c> does.
    /// </summary>
    /// <param name="table">The rows (<see cref="MlflowTable.FromRows{T}(IEnumerable{T})"/>, <see cref="MlflowTable.FromColumns"/>).</param>
    /// <param name="artifactFile">The run-relative file, ending in <c>.json</c> (<c>eval/predictions.json</c>).</param>
    /// <exception cref="ArgumentException">The file does not end in <c>.json</c> or has a character MLflow refuses in a table name (<c>" ' , : [ ] { }</c>).</exception>
    /// <exception cref="MlflowValidationException">The path is not a relative artifact path, or the tag would grow past MLflow's 5000 characters (nothing is written).</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public void LogTable(MlflowTable table, string artifactFile)
        => LogTableAsync(table, artifactFile, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc cref="LogTable(MlflowTable, string)"/>
    /// <param name="table">The rows.</param>
    /// <param name="artifactFile">The run-relative file, ending in <c>.json</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the table is stored.</returns>
    public async Task LogTableAsync(MlflowTable table, string artifactFile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        CheckTableFile(artifactFile);
        ThrowIfEnded();
        await _listLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var existing = await TryReadArtifactTextAsync(artifactFile, cancellationToken).ConfigureAwait(false);
            var merged = existing is null ? table : TableJson.Read(existing).Append(table);
            var current = await ListTagAsync(RunTagLists.LoggedArtifactsTag, cancellationToken).ConfigureAwait(false);
            var tag = RunTagLists.AppendArtifact(current, artifactFile, "table");
            CheckListTagLength(RunTagLists.LoggedArtifactsTag, tag);
            await LogTextArtifactAsync(TableJson.Write(merged), artifactFile, cancellationToken).ConfigureAwait(false);
            SetListTag(RunTagLists.LoggedArtifactsTag, tag);
        }
        finally
        {
            _listLock.Release();
        }
    }

    /// <summary>Reads a table this run (or MLflow's <c>log_table</c>) logged, from the run's artifacts.</summary>
    /// <param name="artifactFile">The run-relative file.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The table; integers as <see cref="long"/>, other numbers as <see cref="double"/>.</returns>
    /// <exception cref="FileNotFoundException">The run has no such artifact.</exception>
    /// <exception cref="FormatException">The artifact is not an MLflow table.</exception>
    public async Task<MlflowTable> LoadTableAsync(string artifactFile, CancellationToken cancellationToken = default)
    {
        Artifacts.ArtifactPaths.Check(artifactFile);
        var text = await TryReadArtifactTextAsync(artifactFile, cancellationToken).ConfigureAwait(false)
            ?? throw new FileNotFoundException($"Run {RunId} has no artifact '{artifactFile}'.", artifactFile);
        return TableJson.Read(text);
    }

    /// <inheritdoc cref="LoadTableAsync(string, CancellationToken)"/>
    /// <param name="artifactFile">The run-relative file.</param>
    public MlflowTable LoadTable(string artifactFile) => LoadTableAsync(artifactFile, CancellationToken.None).GetAwaiter().GetResult();

    private static void CheckTableFile(string artifactFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactFile);
        if (artifactFile.IndexOfAny(TableFileForbidden) is var i and >= 0)
        {
            throw new ArgumentException($"The table file '{artifactFile}' contains '{artifactFile[i]}', which MLflow refuses in a table's name (its UI finds tables by a pattern on the tag).", nameof(artifactFile));
        }

        if (!artifactFile.EndsWith(".json", StringComparison.Ordinal))
        {
            throw new ArgumentException($"The table file '{artifactFile}' must end in '.json', as MLflow's tables do.", nameof(artifactFile));
        }

        Artifacts.ArtifactPaths.Check(artifactFile);
    }

    /// <summary>The current value of a list tag: this run's own when it set one, else the store's (read once).</summary>
    private async Task<string?> ListTagAsync(string key, CancellationToken cancellationToken)
    {
        if (!_listTags.TryGetValue(key, out var value))
        {
            value = await _tracker.ReadRunTagAsync(this, key, cancellationToken).ConfigureAwait(false);
            _listTags[key] = value;
        }

        return value;
    }

    private static void CheckListTagLength(string key, string? value)
    {
        if (value is not null && value.Length > MlflowLimits.MaxTagValueLength)
        {
            throw new MlflowValidationException(key, $"the tag would hold {value.Length} characters, more than MLflow's {MlflowLimits.MaxTagValueLength}; nothing was logged", "tag key");
        }
    }

    /// <summary>Queues the new value of a list tag (in order with the run's other tags) and keeps it as this run's current value.</summary>
    private void SetListTag(string key, string? value)
    {
        if (value is null)
        {
            return; // already listed: MLflow leaves the tag as it is
        }

        _listTags[key] = value;
        SetTag(key, value);
    }
}
