// Step 6, artifacts: files new or changed since the last sync, written where the server run keeps them (its proxy, or a folder on this machine).
using System.Globalization;
using Mlflow.Client.Artifacts;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Sync;

internal sealed partial class RunSynchronizer
{
    private static readonly TimeSpan JournalSaveInterval = TimeSpan.FromSeconds(2);

    private async Task SendArtifactsAsync(MlflowClient target, string? serverArtifactUri, RunState s, CancellationToken ct)
    {
        var pending = PendingArtifacts(s);
        s.ArtifactsTotal = pending.Count;
        if (pending.Count == 0)
        {
            return;
        }

        // The one way to the server run's artifact root, as the tracker writes online: the server's proxy for
        // mlflow-artifacts:, the folder itself for a local path on this machine (a server started with
        // --default-artifact-root ./mlruns and no proxy).
        IArtifactRepository destination;
        try
        {
            destination = ArtifactRepositories.ForRoot(target, serverArtifactUri ?? "");
        }
        catch (NotSupportedException ex)
        {
            s.ArtifactsSkipped = pending.Count;
            s.ArtifactsSkippedReason = ex.Message + " Copy them with MLflow's own tools.";
            SyncLog.ArtifactsSkipped(_logger, s.LocalRunId, pending.Count, s.ArtifactsSkippedReason);
            return;
        }

        var journal = s.Journal!;
        var lastSave = DateTime.UtcNow;
        foreach (var (relative, fullPath, stamp) in pending)
        {
            try
            {
                var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
                await using (stream.ConfigureAwait(false))
                {
                    // An upload is an idempotent write: the client's pipeline sends it again when that is safe.
                    await destination.WriteAsync(relative, stream, ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is MlflowException { Kind: MlflowFailureKind.Rejected } or MlflowValidationException or IOException or UnauthorizedAccessException)
            {
                s.Errors.Add($"Artifact '{relative}' was not uploaded: {ex.Message}");
                continue;
            }

            journal.Artifacts[relative] = stamp;
            s.ArtifactsSent++;
            if (DateTime.UtcNow - lastSave > JournalSaveInterval)
            {
                journal.Save(s.JournalPath!); // uploads overwrite, so saving now and then is enough
                lastSave = DateTime.UtcNow;
                Report(s, SyncPhase.Artifacts);
            }
        }

        journal.Save(s.JournalPath!);
    }

    /// <summary>
    /// The run's artifact files new or changed since the last sync, and, on a server without logged models (2.x), the
    /// files of the READY logged models it produced in the local store (MLflow 3.11.1's <c>models/m-…/artifacts</c>)
    /// under <c>&lt;model name&gt;/</c>, as <c>LogModel</c> writes a model on such a server
    /// (<c>runs:/&lt;run&gt;/&lt;name&gt;</c> loads and registers it). An MLflow 3 server gets them as logged models.
    /// </summary>
    private static List<(string Relative, string FullPath, string Stamp)> PendingArtifacts(RunState s)
    {
        var result = new List<(string, string, string)>();
        AddPending(s.Journal!.Artifacts, LocalArtifactDirectory(s), null, result);
        if (s.ModelsAsArtifacts)
        {
            foreach (var (name, folder) in s.ModelFolders)
            {
                AddPending(s.Journal.Artifacts, folder, name, result);
            }
        }

        return result;
    }

    /// <summary>Adds the files under <paramref name="dir"/> whose size or write time differs from what <paramref name="sent"/> records.</summary>
    private static void AddPending(Dictionary<string, string> sent, string dir, string? prefix, List<(string, string, string)> result)
    {
        if (!Directory.Exists(dir))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            var relative = (prefix is null ? "" : prefix + "/") + Path.GetRelativePath(dir, file).Replace(Path.DirectorySeparatorChar, '/');
            var stamp = string.Create(CultureInfo.InvariantCulture, $"{info.Length}:{info.LastWriteTimeUtc.Ticks}");
            if (!sent.TryGetValue(relative, out var known) || known != stamp)
            {
                result.Add((relative, file, stamp));
            }
        }
    }

    /// <summary>The run's artifact folder: its recorded <c>file:</c> artifact URI when that folder exists, else <c>&lt;run&gt;/artifacts</c> (the store was moved).</summary>
    private static string LocalArtifactDirectory(RunState s)
    {
        if (s.Local!.Info.ArtifactUri is { } uri && uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var path = FileStorePaths.FromFileUri(uri);
                if (Directory.Exists(path))
                {
                    return path;
                }
            }
            catch (ArgumentException)
            {
                // fall back to the run folder
            }
        }

        return Path.Combine(s.RunDir!, "artifacts");
    }
}
