using Mlflow.Client.FileStore;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

// Downloading a model version's files: models:/ and runs:/ URIs resolved as MLflow does, then the files fetched through
// the server's artifact proxy (mlflow-artifacts:) or copied from a local path; nothing is written outside the target.
public sealed partial class MlflowModelRegistry
{
    private const int MaxDownloadDepth = 64;
    private const int MaxDownloadEntries = 100_000;

    /// <summary>
    /// Downloads a model's files into a folder: <c>models:/name/3</c>, <c>models:/name@alias</c>,
    /// <c>models:/name/latest</c> (resolved as MLflow does, through the version's download URI), <c>models:/m-&lt;id&gt;</c>
    /// (an MLflow 3 logged model, through its <c>artifact_uri</c>), <c>runs:/id/path</c>, or an artifact URI. Files behind the server's artifact proxy (<c>mlflow-artifacts:</c>) are streamed; a local
    /// path or <c>file:</c> URI (a local store, or a server whose artifacts this machine can reach) is copied.
    /// </summary>
    /// <param name="modelUri">The model.</param>
    /// <param name="destination">The folder that receives the model's files (created; existing files of the same name are replaced).</param>
    /// <returns>The full path of <paramref name="destination"/>.</returns>
    /// <exception cref="MlflowValidationException">A path the server listed would leave <paramref name="destination"/> (nothing of it is written).</exception>
    /// <exception cref="NotSupportedException">The files are in a store this client does not read (<c>s3://</c>, <c>gs://</c>...).</exception>
    /// <exception cref="MlflowException">The model or its files cannot be found or reached.</exception>
    public string DownloadModel(string modelUri, string destination) => DownloadModelAsync(modelUri, destination).GetAwaiter().GetResult();

    /// <inheritdoc cref="DownloadModel"/>
    /// <param name="modelUri">The model.</param>
    /// <param name="destination">The folder that receives the model's files.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    public async Task<string> DownloadModelAsync(string modelUri, string destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelUri);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        var location = modelUri;
        if (ModelUri.IsModelUri(location) && ModelUri.Parse(location).ModelId is null)
        {
            var version = await ResolveModelUriAsync(location, cancellationToken).ConfigureAwait(false);
            location = await _registry.GetModelVersionDownloadUriAsync(version.Name, version.Version, cancellationToken).ConfigureAwait(false);
        }

        // A logged model (MLflow 3), named directly or by the source of a version registered from it when the registry
        // hands that source back as is: its files are at its artifact_uri.
        if (ModelUri.IsModelUri(location) && ModelUri.Parse(location).ModelId is { } modelId)
        {
            location = await LoggedModelLocationAsync(modelId, location, cancellationToken).ConfigureAwait(false);
        }

        // A version may have been registered with a runs:/ source: resolved once, like the URI itself.
        if (RunsUri.TryParse(location, out var runId, out var path))
        {
            location = await ResolveRunsUriAsync(runId, path, cancellationToken).ConfigureAwait(false);
        }

        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        if (await TryDownloadInMemoryAsync(location, target, cancellationToken).ConfigureAwait(false))
        {
            return target;
        }

        if (location.StartsWith(ArtifactLocation.ProxyScheme + ":", StringComparison.OrdinalIgnoreCase))
        {
            var client = _client ?? throw new NotSupportedException($"'{location}' is served by a tracking server's artifact proxy; this registry has no server to ask.");
            Directory.CreateDirectory(target);
            await DownloadProxiedAsync(client, location, target, cancellationToken).ConfigureAwait(false);
            return target;
        }

        var local = LocalPath(location);
        if (File.Exists(local))
        {
            Directory.CreateDirectory(target);
            File.Copy(local, Inside(target, Path.GetFileName(local)), overwrite: true);
        }
        else if (Directory.Exists(local))
        {
            Directory.CreateDirectory(target);
            CopyTree(local, target);
        }
        else
        {
            throw new MlflowException($"The model files are at '{location}', which this machine cannot reach. A tracking server started with --serve-artifacts (the default of 'mlflow server' since 2.0) records mlflow-artifacts: locations, which are downloaded through the server.");
        }

        return target;
    }

    /// <summary>Where a logged model's files are: its artifact folder in the local store, else its <c>artifact_uri</c> read from the tracking server (MLflow 3).</summary>
    private async Task<string> LoggedModelLocationAsync(string modelId, string uri, CancellationToken cancellationToken)
    {
        if (_tracking.LoggedModelStore is { } local)
        {
            return local.LoggedModelArtifactDirectory(modelId);
        }

        var client = _client ?? throw new NotSupportedException($"'{uri}' names an MLflow 3 logged model; this registry has no tracking server to read it from.");
        var model = await client.GetLoggedModelAsync(modelId, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(model.Info.ArtifactUri) || ModelUri.IsModelUri(model.Info.ArtifactUri))
        {
            throw new MlflowException($"The logged model '{modelId}' has no artifact location the server gave ('{model.Info.ArtifactUri}').");
        }

        return model.Info.ArtifactUri;
    }

    /// <summary>The local path of a <c>file:</c> URI or a plain path; other schemes are refused.</summary>
    private static string LocalPath(string location)
    {
        if (location.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return Path.GetFullPath(FileStorePaths.FromFileUri(location));
        }

        var colon = location.IndexOf(':', StringComparison.Ordinal);
        if (colon > 1 && location[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
        {
            var scheme = location[..colon];
            throw new NotSupportedException($"The model files are at '{scheme}:' ({location}), which Mlflow.Client does not read. Serve artifacts through the tracking server (mlflow server --serve-artifacts --artifacts-destination {scheme}://...) so the files are reached as mlflow-artifacts: URIs.");
        }

        return Path.GetFullPath(location);
    }

    /// <summary>Walks the proxied folder (bounded in depth and entries) and downloads every file, each path checked first.</summary>
    private static async Task DownloadProxiedAsync(MlflowClient client, string root, string target, CancellationToken cancellationToken)
    {
        var pending = new Stack<string>();
        pending.Push("");
        var seen = 0;
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            var entries = await client.ListProxiedArtifactsAsync(root, folder.Length == 0 ? null : folder, cancellationToken).ConfigureAwait(false);
            if (folder.Length == 0 && entries.Count == 0)
            {
                // The source names one file, or nothing: fetch it as a file under its parent.
                var slash = root.TrimEnd('/').LastIndexOf('/');
                var name = root.TrimEnd('/')[(slash + 1)..];
                if (slash <= root.IndexOf(':', StringComparison.Ordinal) || name.Length == 0)
                {
                    throw new MlflowException($"No model files at '{root}'.");
                }

                try
                {
                    await client.DownloadArtifactToFileAsync(root[..slash], name, Inside(target, name), cancellationToken).ConfigureAwait(false);
                }
                catch (MlflowException ex) when (!ex.IsTransient)
                {
                    throw new MlflowException($"No model files at '{root}'.", ex);
                }

                return;
            }

            foreach (var entry in entries)
            {
                if (++seen > MaxDownloadEntries)
                {
                    throw new MlflowException($"'{root}' lists more than {MaxDownloadEntries} entries; stopped.");
                }

                var segments = ArtifactLocation.SplitRelativePath(entry.Path, allowEmpty: false);
                var relative = string.Join('/', segments);
                var local = Inside(target, relative);
                if (entry.IsDir)
                {
                    if (segments.Count > MaxDownloadDepth)
                    {
                        throw new MlflowException($"'{root}' nests folders more than {MaxDownloadDepth} deep; stopped.");
                    }

                    pending.Push(relative);
                }
                else
                {
                    await client.DownloadArtifactToFileAsync(root, relative, local, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static void CopyTree(string source, string target)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, MaxRecursionDepth = MaxDownloadDepth };
        foreach (var file in Directory.EnumerateFiles(source, "*", options))
        {
            var local = Inside(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            File.Copy(file, local, overwrite: true);
        }
    }

    /// <summary>The full path of <paramref name="relative"/> under <paramref name="target"/>; refuses anything that would land outside it.</summary>
    private static string Inside(string target, string relative)
    {
        var full = Path.GetFullPath(Path.Combine(target, relative.Replace('/', Path.DirectorySeparatorChar)));
        FileStorePaths.EnsureUnder(target, full, relative, "artifact path", "the download folder");
        return full;
    }
}
