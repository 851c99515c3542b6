// The run's MLflow 3 logged models: on an MLflow 3 server each one is found by its source tag or created (before the
// run's metrics, whose model-linked points carry its id), linked to the run as an output, and after the run's artifacts
// its files are uploaded and it is finalized; on a 2.x server their files go with the run's artifacts (Artifacts step).
using Mlflow.Client.Artifacts;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Sync;

internal sealed partial class RunSynchronizer
{
    /// <summary>Tag of a server logged model: the id of the local logged model it was made from (how a sync finds it again).</summary>
    internal const string SourceModelIdTag = "mlflow.dotnet.sourceModelId";

    /// <summary>The registered versions of a logged model in the local registry (MLflow's tag): not the server's, so not sent.</summary>
    private const string ModelVersionsTag = "mlflow.modelVersions";

    /// <summary>Reads the logged models the run produced, with the lines of their metric files that name this run.</summary>
    private static void LoadModels(LocalFileStore source, RunState s)
    {
        foreach (var model in source.ListLoggedModels(s.Local!.Info.ExperimentId).Where(m => m.Info.SourceRunId == s.LocalRunId))
        {
            var id = model.Info.ModelId;
            var lines = new Dictionary<string, List<Metric>>(StringComparer.Ordinal);
            foreach (var (key, points) in source.ReadLoggedModelMetricLines(id))
            {
                var ours = points.Where(p => p.RunId == s.LocalRunId).ToList();
                if (ours.Count > 0)
                {
                    lines[key] = ours;
                }
            }

            var folder = source.LoggedModelArtifactDirectory(id);
            s.Models.Add(new LocalModel(model, folder, lines));
            if (model.Info.Status == LoggedModelStatus.Ready)
            {
                s.ModelFolders.Add((model.Info.Name, folder));
            }
        }
    }

    /// <summary>The models a sync would push: finalized locally (READY, or FAILED) and not yet finalized on the server.</summary>
    private static List<LocalModel> PendingModels(RunState s)
        => s.Models.Where(m => IsFinal(m) && !(s.Journal!.Models.TryGetValue(m.Id, out var entry) && entry.Status == (int)m.Model.Info.Status)).ToList();

    private static bool IsFinal(LocalModel m) => m.Model.Info.Status is LoggedModelStatus.Ready or LoggedModelStatus.UploadFailed;

    /// <summary>
    /// Asks the server whether it has logged models (once per client). A 2.x server gets the READY models' files with the
    /// run's artifacts. An MLflow 3 server gets each finalized model as a logged model: found by its source tag or created
    /// (params, tags, name, type, the server run as its source), linked to the run as its output at the local step; then
    /// the points its metric lines name are paired with the run's points (<see cref="LinkModelMetrics"/>). A PENDING
    /// model is skipped with a message (its <c>LogModel</c> has not finished, or was interrupted): a later sync pushes
    /// it once it is finalized.
    /// </summary>
    private async Task PrepareModelsAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var server = await target.GetServerInfoAsync(ct).ConfigureAwait(false);
        if (!server.SupportsLoggedModels)
        {
            s.ModelsAsArtifacts = true;
            return;
        }

        s.PushModels = true;
        var journal = s.Journal!;
        foreach (var model in s.Models)
        {
            ct.ThrowIfCancellationRequested();
            if (!IsFinal(model))
            {
                SyncLog.ModelSkipped(_logger, s.LocalRunId, model.Id,
                    $"it is {model.Model.Info.Status} in the local store (its LogModel has not finished, or was interrupted); a later sync pushes it once it is finalized.");
                continue;
            }

            if (!journal.Models.TryGetValue(model.Id, out var entry))
            {
                entry = new SyncModelEntry();
                journal.Models[model.Id] = entry;
            }

            if (await EnsureServerModelAsync(target, s, model, entry, ct).ConfigureAwait(false))
            {
                await EnsureOutputAsync(target, s, model, entry, ct).ConfigureAwait(false);
            }
        }

        LinkModelMetrics(s);
    }

    /// <summary>
    /// The server model of a local one: from the journal, else found by its source tag (an earlier sync got no answer, or
    /// its journal is lost), else created with that tag (so it can never lack it). A create without an answer is
    /// settled by searching for the tag, never by a second create.
    /// </summary>
    /// <returns>Whether the server model is known; a refusal is reported in the run's errors.</returns>
    private async Task<bool> EnsureServerModelAsync(MlflowClient target, RunState s, LocalModel model, SyncModelEntry entry, CancellationToken ct)
    {
        if (entry.ServerModelId is not null)
        {
            return true;
        }

        var info = model.Model.Info;
        var experimentId = s.Journal!.ServerExperimentId!;
        var found = await FindModelBySourceTagAsync(target, experimentId, s.ServerRunId!, model.Id, ct).ConfigureAwait(false);
        if (found is not null)
        {
            SyncLog.ModelFoundByTag(_logger, s.LocalRunId, model.Id, found.Info.ModelId);
        }
        else
        {
            var tags = info.Tags.Where(t => t.Key is not (SourceModelIdTag or ModelVersionsTag)).Append(new Tag(SourceModelIdTag, model.Id)).ToList();
            try
            {
                found = await target.CreateLoggedModelAsync(experimentId, info.Name, info.ModelType, s.ServerRunId, model.Model.Data.Params, tags, ct).ConfigureAwait(false);
                model.CreatedNow = true;
            }
            catch (MlflowException ex) when (ex.OutcomeUnknown)
            {
                // The create may have landed without its answer: its tag finds it. Not found: it was not applied, and
                // the next sync creates it.
                found = await FindModelBySourceTagAsync(target, experimentId, s.ServerRunId!, model.Id, ct).ConfigureAwait(false);
                if (found is null)
                {
                    throw;
                }

                SyncLog.ModelFoundByTag(_logger, s.LocalRunId, model.Id, found.Info.ModelId);
            }
            catch (Exception ex) when (ex is MlflowException { Kind: MlflowFailureKind.Rejected } or ArgumentException)
            {
                s.Errors.Add($"Logged model {model.Id} ('{info.Name}') was refused by the server: {ex.Message}");
                return false;
            }
        }

        entry.ServerModelId = found.Info.ModelId;
        entry.ArtifactUri = found.Info.ArtifactUri;
        s.Journal.Save(s.JournalPath!);
        return true;
    }

    /// <summary>
    /// The server model made from a local model for this server run (its source tag, and the run as its source: a model
    /// made for an earlier server run of the local run, since deleted, is not taken), the oldest when there are several.
    /// The filter holds the tag alone: MLflow 3.11.1's SQL store refused <c>AND</c> in this filter on the verified setup
    /// (400 "Expected a list of comparisons separated by 'AND'"), so the source run is checked here.
    /// </summary>
    private static async Task<LoggedModel?> FindModelBySourceTagAsync(MlflowClient target, string experimentId, string serverRunId, string localModelId, CancellationToken ct)
    {
        var options = new LoggedModelSearchOptions
        {
            Filter = $"tags.`{SourceModelIdTag}` = '{localModelId}'",
            OrderBy = [new LoggedModelOrderBy("creation_timestamp")],
        };
        await foreach (var model in target.SearchAllLoggedModelsAsync([experimentId], options, ct).ConfigureAwait(false))
        {
            if (model.Info.SourceRunId == serverRunId)
            {
                return model;
            }
        }

        return null;
    }

    /// <summary>
    /// Links the server model to the server run as its output at the step of the local run's output (none when the local
    /// run has no output for it). A model this sync did not create may already be linked (an earlier sync stopped
    /// before its journal was saved): the run's outputs are read first, as the server refuses an output twice.
    /// </summary>
    private static async Task EnsureOutputAsync(MlflowClient target, RunState s, LocalModel model, SyncModelEntry entry, CancellationToken ct)
    {
        if (entry.OutputLogged)
        {
            return;
        }

        if (s.Local!.Outputs.ModelOutputs.FirstOrDefault(o => o.ModelId == model.Id) is { } local)
        {
            var output = new ModelOutput(entry.ServerModelId!, local.Step);
            var held = !model.CreatedNow
                && (await target.GetRunAsync(s.ServerRunId!, ct).ConfigureAwait(false)).Outputs.ModelOutputs.Any(o => o.ModelId == output.ModelId);
            if (!held)
            {
                try
                {
                    await target.LogOutputsAsync(s.ServerRunId!, [output], ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is MlflowException { Kind: MlflowFailureKind.Rejected } or ArgumentException)
                {
                    s.Errors.Add($"The output link of logged model {model.Id} to run {s.ServerRunId} was refused: {ex.Message}");
                    return;
                }
            }
        }

        entry.OutputLogged = true;
        s.Journal!.Save(s.JournalPath!);
    }

    /// <summary>
    /// After the run's metrics and artifacts: uploads each pushed model's files new or changed since the last sync to the
    /// server model's artifact location (the <c>MLmodel</c> file with the server's ids, <see cref="ServerMlModel"/>), then
    /// finalizes it with the local status: READY, or FAILED for a model whose local <c>LogModel</c> failed (its files
    /// are incomplete, so none is uploaded; the server shows it failed, as an online <c>LogModel</c> would have left it).
    /// A model whose files could not all be uploaded stays PENDING on the server, and the next sync goes on.
    /// </summary>
    private async Task SendModelFilesAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        foreach (var model in s.Models)
        {
            ct.ThrowIfCancellationRequested();
            if (!IsFinal(model) || !journal.Models.TryGetValue(model.Id, out var entry) || entry.ServerModelId is null || !entry.OutputLogged)
            {
                continue;
            }

            var status = model.Model.Info.Status;
            if (status == LoggedModelStatus.Ready && !await UploadModelFilesAsync(target, s, model, entry, ct).ConfigureAwait(false))
            {
                continue;
            }

            if (entry.Status == (int)status)
            {
                continue;
            }

            try
            {
                // A finalize sets the status: sending it again after a lost answer is harmless.
                await target.FinalizeLoggedModelAsync(entry.ServerModelId, status, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MlflowException { Kind: MlflowFailureKind.Rejected } or ArgumentException)
            {
                s.Errors.Add($"Logged model {model.Id} could not be finalized on the server ({entry.ServerModelId}): {ex.Message}");
                continue;
            }

            entry.Status = (int)status;
            journal.Save(s.JournalPath!);
            s.LoggedModelsSent++;
        }
    }

    /// <returns>Whether every file of the model is on the server.</returns>
    private async Task<bool> UploadModelFilesAsync(MlflowClient target, RunState s, LocalModel model, SyncModelEntry entry, CancellationToken ct)
    {
        var pending = new List<(string Relative, string FullPath, string Stamp)>();
        AddPending(entry.Artifacts, model.ArtifactDirectory, null, pending);
        if (pending.Count == 0)
        {
            return true;
        }

        IArtifactRepository destination;
        try
        {
            destination = ArtifactRepositories.ForRoot(target, entry.ArtifactUri ?? "");
        }
        catch (NotSupportedException ex)
        {
            s.ArtifactsSkipped += pending.Count;
            s.ArtifactsSkippedReason = $"logged model {model.Id}: {ex.Message} Copy its files with MLflow's own tools.";
            SyncLog.ArtifactsSkipped(_logger, s.LocalRunId, pending.Count, s.ArtifactsSkippedReason);
            return false;
        }

        var complete = true;
        foreach (var (relative, fullPath, stamp) in pending)
        {
            try
            {
                Stream content = relative == "MLmodel"
                    ? new MemoryStream(System.Text.Encoding.UTF8.GetBytes(ServerMlModel(await File.ReadAllTextAsync(fullPath, ct).ConfigureAwait(false), model, entry, s)))
                    : new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
                await using (content.ConfigureAwait(false))
                {
                    // An upload is an idempotent write: the client's pipeline sends it again when that is safe.
                    await destination.WriteAsync(relative, content, ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is MlflowException { Kind: MlflowFailureKind.Rejected } or MlflowValidationException or IOException or UnauthorizedAccessException)
            {
                s.Errors.Add($"File '{relative}' of logged model {model.Id} was not uploaded: {ex.Message}");
                complete = false;
                continue;
            }

            entry.Artifacts[relative] = stamp;
            s.ArtifactsSent++;
        }

        s.Journal!.Save(s.JournalPath!);
        return complete;
    }

    /// <summary>
    /// The model's <c>MLmodel</c> as the server model holds it: the top-level <c>model_id</c> and <c>model_uuid</c> that
    /// name the local model, <c>run_id</c> naming the local run and <c>artifact_path</c> naming the local location are
    /// replaced by the server's (MLflow's own <c>MLmodel</c> names the model it lives in); every other line is kept as it is.
    /// </summary>
    private static string ServerMlModel(string text, LocalModel model, SyncModelEntry entry, RunState s)
    {
        var replacements = new Dictionary<string, (string Local, string Server)>(StringComparer.Ordinal)
        {
            ["model_id"] = (model.Id, entry.ServerModelId!),
            ["model_uuid"] = (model.Id, entry.ServerModelId!),
            ["run_id"] = (s.LocalRunId, s.ServerRunId!),
        };
        if (model.Model.Info.ArtifactUri is { Length: > 0 } localUri && entry.ArtifactUri is { Length: > 0 } serverUri)
        {
            replacements["artifact_path"] = (localUri, serverUri);
        }

        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var colon = lines[i].IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0 || char.IsWhiteSpace(lines[i][0]) || !replacements.TryGetValue(lines[i][..colon], out var swap))
            {
                continue;
            }

            var value = lines[i][(colon + 2)..].TrimEnd('\r');
            if (value.Length >= 2 && (value[0] is '\'' or '"') && value[^1] == value[0])
            {
                value = value[1..^1];
            }

            if (value == swap.Local)
            {
                lines[i] = lines[i][..colon] + ": " + MiniYaml.Scalar(swap.Server) + (lines[i].EndsWith('\r') ? "\r" : "");
            }
        }

        return string.Join('\n', lines);
    }

    /// <summary>A logged model the local run produced, as the sync reads it.</summary>
    /// <param name="model">The model (info, params, tags).</param>
    /// <param name="artifactDirectory">Its local artifact folder.</param>
    /// <param name="lines">Metric key → the lines of the model's metric file that name this run, in file order.</param>
    internal sealed class LocalModel(LoggedModel model, string artifactDirectory, Dictionary<string, List<Metric>> lines)
    {
        public LoggedModel Model { get; } = model;

        public string Id => Model.Info.ModelId;

        public string ArtifactDirectory { get; } = artifactDirectory;

        public Dictionary<string, List<Metric>> Lines { get; } = lines;

        /// <summary>Created on the server by this sync (so nothing of it is there yet).</summary>
        public bool CreatedNow { get; set; }
    }
}
