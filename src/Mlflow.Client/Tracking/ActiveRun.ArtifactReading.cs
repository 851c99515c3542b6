using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Artifacts;
using Mlflow.Client.FileStore;

namespace Mlflow.Client;

public sealed partial class ActiveRun
{
    /// <summary>Lists the files and folders directly in a folder of the run's artifacts (also after the run ended).</summary>
    /// <param name="path">The folder under the run's artifact root; the root when <see langword="null"/>.</param>
    /// <returns>Entries with paths relative to the artifact root, ordered by path.</returns>
    /// <remarks>Reads where the run's artifacts are: the local store, the server run's artifact root, or, for a run
    /// started offline and not yet on the server, its offline copy.</remarks>
    public IReadOnlyList<ArtifactFileInfo> ListArtifacts(string? path = null) => ListArtifactsAsync(path).GetAwaiter().GetResult();

    /// <inheritdoc cref="ListArtifacts(string?)"/>
    /// <param name="path">The folder under the run's artifact root; the root when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public async Task<IReadOnlyList<ArtifactFileInfo>> ListArtifactsAsync(string? path = null, CancellationToken cancellationToken = default)
    {
        var folder = ArtifactPaths.CheckFolder(path);
        var repository = await _tracker.ArtifactRepositoryAsync(this, cancellationToken).ConfigureAwait(false);
        var entries = await repository.ListAsync(folder, cancellationToken).ConfigureAwait(false);
        return entries.OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>Downloads one artifact file, or a folder with everything under it, into a local folder (relative paths kept).</summary>
    /// <param name="artifactPath">A file or folder under the run's artifact root; the whole root when <see langword="null"/>.</param>
    /// <param name="localDirectory">The local folder to put it in (created when missing); existing files are replaced.</param>
    /// <returns>The local path of the downloaded file or folder.</returns>
    /// <remarks>Each file is streamed to a temporary name and moved into place when complete. A path the server lists
    /// that would leave <paramref name="localDirectory"/> is refused.</remarks>
    public string DownloadArtifacts(string? artifactPath, string localDirectory) => DownloadArtifactsAsync(artifactPath, localDirectory).GetAwaiter().GetResult();

    /// <inheritdoc cref="DownloadArtifacts(string?, string)"/>
    /// <param name="artifactPath">A file or folder under the run's artifact root; the whole root when <see langword="null"/>.</param>
    /// <param name="localDirectory">The local folder to put it in.</param>
    /// <param name="cancellationToken">Cancels the download (complete files stay).</param>
    public async Task<string> DownloadArtifactsAsync(string? artifactPath, string localDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(localDirectory);
        var path = ArtifactPaths.CheckFolder(artifactPath);
        var destination = Path.GetFullPath(localDirectory);
        Directory.CreateDirectory(destination);
        var repository = await _tracker.ArtifactRepositoryAsync(this, cancellationToken).ConfigureAwait(false);
        var listed = await repository.ListAsync(path, cancellationToken).ConfigureAwait(false);
        if (path is not null && listed.Count == 0)
        {
            await DownloadFileAsync(repository, path, destination, cancellationToken).ConfigureAwait(false);
            return LocalTarget(destination, path);
        }

        // A folder: walk it breadth-first, bounded by what the listings return.
        var pending = new Queue<IReadOnlyList<ArtifactFileInfo>>();
        pending.Enqueue(listed);
        while (pending.TryDequeue(out var entries))
        {
            foreach (var entry in entries)
            {
                ArtifactPaths.Check(entry.Path);
                if (entry.IsDir)
                {
                    Directory.CreateDirectory(LocalTarget(destination, entry.Path));
                    pending.Enqueue(await repository.ListAsync(entry.Path, cancellationToken).ConfigureAwait(false));
                }
                else
                {
                    await DownloadFileAsync(repository, entry.Path, destination, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return path is null ? destination : LocalTarget(destination, path);
    }

    /// <summary>Reads a text artifact (UTF-8), as <c>mlflow.artifacts.load_text</c>.</summary>
    /// <param name="artifactFile">The file's path under the run's artifact root.</param>
    /// <returns>The text.</returns>
    public string LoadText(string artifactFile) => LoadTextAsync(artifactFile).GetAwaiter().GetResult();

    /// <inheritdoc cref="LoadText(string)"/>
    /// <param name="artifactFile">The file's path under the run's artifact root.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    public async Task<string> LoadTextAsync(string artifactFile, CancellationToken cancellationToken = default)
    {
        var path = ArtifactPaths.Check(artifactFile);
        var repository = await _tracker.ArtifactRepositoryAsync(this, cancellationToken).ConfigureAwait(false);
        var stream = await repository.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a JSON dictionary artifact (as <see cref="LogDict(object, string)"/> writes one), as <c>mlflow.artifacts.load_dict</c>.</summary>
    /// <param name="artifactFile">The file's path under the run's artifact root; a <c>.json</c> file (or any name but <c>.yaml</c>/<c>.yml</c>).</param>
    /// <returns>The mapping.</returns>
    /// <exception cref="NotSupportedException">The file is YAML: read it with <see cref="LoadText(string)"/>.</exception>
    /// <exception cref="JsonException">The file is not a JSON object (or holds <c>NaN</c>/<c>Infinity</c>, which Python writes for such floats and JSON does not allow).</exception>
    public JsonObject LoadDict(string artifactFile) => LoadDictAsync(artifactFile).GetAwaiter().GetResult();

    /// <inheritdoc cref="LoadDict(string)"/>
    /// <param name="artifactFile">The file's path under the run's artifact root.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    public async Task<JsonObject> LoadDictAsync(string artifactFile, CancellationToken cancellationToken = default)
    {
        if (DictSerializer.IsYaml(artifactFile))
        {
            throw new NotSupportedException($"'{artifactFile}' is YAML, which LoadDict does not parse: read it with LoadText.");
        }

        var text = await LoadTextAsync(artifactFile, cancellationToken).ConfigureAwait(false);
        var node = JsonNode.Parse(text);
        return node as JsonObject ?? throw new JsonException($"'{artifactFile}' does not hold a JSON object.");
    }

    private static async Task DownloadFileAsync(IArtifactRepository repository, string artifactPath, string destination, CancellationToken cancellationToken)
    {
        var source = await repository.OpenReadAsync(artifactPath, cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            await new LocalArtifactRepository(destination).WriteAsync(artifactPath, source, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string LocalTarget(string destination, string artifactPath)
        => FileStorePaths.Combine(destination, destination, artifactPath, "artifact path");
}
