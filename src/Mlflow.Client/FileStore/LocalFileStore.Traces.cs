using System.Globalization;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.FileStore;

// MLflow 3 traces and assessments in the local store, in MLflow 3.11.1's file store layout (TraceFiles):
// <experiment>/traces/<trace id>/{trace_info.yaml, request_metadata/, tags/, assessments/<id>.yaml, artifacts/traces.json}.
// A trace becomes visible when its trace_info.yaml appears, which is written last: a reader (this store or MLflow's)
// never sees a trace without its metadata, tags or span data.
internal sealed partial class LocalFileStore
{
    private const int MaxTraceIdLength = 256;

    /// <summary>The clock that times assessments created without a time.</summary>
    internal TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <inheritdoc />
    public Task<TraceInfo> LogTraceAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, CancellationToken cancellationToken)
    {
        var (completed, owned) = TraceCompletion.Complete(info, spans);
        var data = TraceDataJson.Serialize(completed.TraceId, owned); // also checks the id is tr- and 32 hex digits
        MlflowValidation.ValidateExperimentId(completed.ExperimentId);
        foreach (var key in completed.Metadata.Keys)
        {
            FileStorePaths.ValidateKey(key, "trace metadata key");
        }

        foreach (var key in completed.Tags.Keys)
        {
            FileStorePaths.ValidateKey(key, "trace tag key");
        }

        var experiment = ReadExperiment(completed.ExperimentId, ViewType.ActiveOnly)
            ?? throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not find active experiment with ID {completed.ExperimentId}");
        var traceDir = TraceDirectory(Path.Combine(_root, completed.ExperimentId), completed.TraceId);
        if (FindTraceDirectory(completed.TraceId) is not null)
        {
            throw StoreError(MlflowErrorCode.ResourceAlreadyExists, $"Trace with ID '{completed.TraceId}' already exists.");
        }

        var (artifactDir, artifactUri) = TraceArtifactLocation(experiment, traceDir, completed.TraceId);
        var tags = new Dictionary<string, string>(completed.Tags, StringComparer.Ordinal) { [TraceKeys.ArtifactLocationTag] = artifactUri };
        var stored = completed with { Tags = tags, Assessments = [] };

        Directory.CreateDirectory(traceDir);
        using var writing = ClaimTraceWrite(traceDir, completed.TraceId);
        if (FindTraceDirectory(completed.TraceId) is not null)
        {
            // Written by another writer between the first look and the claim.
            throw StoreError(MlflowErrorCode.ResourceAlreadyExists, $"Trace with ID '{completed.TraceId}' already exists.");
        }

        WriteKeyValueFolder(traceDir, TraceFiles.MetadataFolder, stored.Metadata, "trace metadata key");
        WriteKeyValueFolder(traceDir, TraceFiles.TagsFolder, stored.Tags, "trace tag key");
        WriteTextAtomically(traceDir, Path.Combine(artifactDir, TraceKeys.TraceDataFileName), data);
        if (!TryCreateAtomically(traceDir, Path.Combine(traceDir, TraceFiles.TraceInfoFile), TraceFiles.WriteTraceInfo(stored)))
        {
            throw StoreError(MlflowErrorCode.ResourceAlreadyExists, $"Trace with ID '{completed.TraceId}' already exists.");
        }

        return Task.FromResult(stored);
    }

    /// <summary>
    /// Makes this the only writer of a trace until the returned handle is disposed: two writers of one trace id (an
    /// offline drain and mlflow-sync on the same copy, in one process or two) would otherwise write each other's
    /// metadata, tags and spans before one of them finds the trace info taken. An exclusive lock file in the trace's
    /// folder (released by the system if the process dies, deleted when disposed); a second writer is refused at once.
    /// </summary>
    private static FileStream ClaimTraceWrite(string traceDir, string traceId)
    {
        try
        {
            return new FileStream(Path.Combine(traceDir, TraceWriteLockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException)
        {
            throw StoreError(MlflowErrorCode.ResourceAlreadyExists, $"Trace with ID '{traceId}' already exists: another writer is logging it.");
        }
    }

    /// <summary>The lock file of a trace being written (<see cref="ClaimTraceWrite"/>); MLflow's readers read named files only.</summary>
    private const string TraceWriteLockFile = ".writing.lock";

    /// <inheritdoc />
    public Task<MlflowTrace> GetTraceAsync(string traceId, CancellationToken cancellationToken)
    {
        var traceDir = RequireTraceDirectory(traceId);
        var info = ReadTrace(traceDir, traceId);
        return Task.FromResult(new MlflowTrace(info, ReadTraceData(traceDir, info)));
    }

    /// <summary>A trace's info with its metadata, tags and assessments (no spans).</summary>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> when there is no such trace.</exception>
    internal TraceInfo GetTraceInfo(string traceId) => ReadTrace(RequireTraceDirectory(traceId), traceId);

    /// <summary>
    /// The ids of the traces logged under a run (metadata <c>mlflow.sourceRun</c>), in the run's experiment, ordered by
    /// id. Traces that are not complete yet (no <c>trace_info.yaml</c>) are not listed.
    /// </summary>
    internal IReadOnlyList<string> ListRunTraceIds(string runId)
    {
        var experimentDir = Path.GetDirectoryName(GetRunDirectory(runId))!;
        var result = new List<string>();
        foreach (var traceDir in SafeEnumerateDirectories(Path.Combine(experimentDir, TraceFiles.TracesFolder)))
        {
            var sourceRun = Path.Combine(traceDir, TraceFiles.MetadataFolder, TraceKeys.SourceRunMetadata);
            if (File.Exists(Path.Combine(traceDir, TraceFiles.TraceInfoFile)) && File.Exists(sourceRun) && ReadUtf8(sourceRun) == runId)
            {
                result.Add(Path.GetFileName(traceDir));
            }
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>Every complete trace of an experiment, newest first (as MLflow's search orders by default).</summary>
    internal IReadOnlyList<TraceInfo> ListTraces(string experimentId)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        var result = new List<TraceInfo>();
        foreach (var traceDir in SafeEnumerateDirectories(Path.Combine(_root, experimentId, TraceFiles.TracesFolder)))
        {
            if (!File.Exists(Path.Combine(traceDir, TraceFiles.TraceInfoFile)))
            {
                continue;
            }

            try
            {
                result.Add(ReadTrace(traceDir, Path.GetFileName(traceDir)));
            }
            catch (MlflowException ex)
            {
                FileStoreLog.SkippedEntity(_logger, traceDir, "malformed trace", ex);
            }
        }

        return result.OrderByDescending(t => t.RequestTimeMs).ThenBy(t => t.TraceId, StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public Task<Assessment> CreateAssessmentAsync(Assessment assessment, CancellationToken cancellationToken)
    {
        TraceWireMapping.Validate(assessment, nameof(assessment));
        if (string.IsNullOrEmpty(assessment.TraceId))
        {
            throw new ArgumentException("The assessment names no trace (TraceId).", nameof(assessment));
        }

        var traceDir = RequireTraceDirectory(assessment.TraceId);
        var now = Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var created = assessment with
        {
            AssessmentId = "a-" + Guid.NewGuid().ToString("N"),
            CreateTimeMs = assessment.CreateTimeMs ?? now,
            LastUpdateTimeMs = assessment.LastUpdateTimeMs ?? assessment.CreateTimeMs ?? now,
            Valid = true,
        };
        if (created.Overrides is { } overridden)
        {
            var original = ReadAssessment(traceDir, assessment.TraceId, overridden);
            WriteAssessment(traceDir, original with { Valid = false, LastUpdateTimeMs = now });
        }

        WriteAssessment(traceDir, created);
        return Task.FromResult(created);
    }

    // ------------------------------------------------------------------ folders

    /// <summary>The folder of a trace in an experiment folder; the id must be a plain file name (MLflow's <c>tr-…</c> ids are).</summary>
    private string TraceDirectory(string experimentDir, string traceId)
    {
        ValidateTraceFileId(traceId, "trace id");
        var dir = Path.GetFullPath(Path.Combine(experimentDir, TraceFiles.TracesFolder, traceId));
        FileStorePaths.EnsureUnder(_root, dir, traceId, "trace id");
        return dir;
    }

    /// <summary>The folder of a complete trace in any active experiment, or <see langword="null"/>.</summary>
    private string? FindTraceDirectory(string traceId)
    {
        ValidateTraceFileId(traceId, "trace id");
        foreach (var experimentDir in SafeEnumerateDirectories(_root))
        {
            var name = Path.GetFileName(experimentDir);
            if (name is TrashFolderName or "models" || name.StartsWith('.'))
            {
                continue;
            }

            var traceDir = TraceDirectory(experimentDir, traceId);
            if (File.Exists(Path.Combine(traceDir, TraceFiles.TraceInfoFile)))
            {
                return traceDir;
            }
        }

        return null;
    }

    private string RequireTraceDirectory(string traceId)
        => FindTraceDirectory(traceId) ?? throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Trace with ID '{traceId}' not found");

    /// <summary>
    /// Where a trace's <c>traces.json</c> goes, as MLflow's file store puts it: the experiment's artifact location and
    /// <c>traces/&lt;id&gt;/artifacts</c>; when that location is not a folder under the store's root (another scheme, or
    /// a folder elsewhere), the trace's own <c>artifacts</c> folder, so nothing is written outside the root.
    /// </summary>
    private (string Directory, string Uri) TraceArtifactLocation(Experiment experiment, string traceDir, string traceId)
    {
        if (experiment.ArtifactLocation is { } location && location.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var candidate = Path.GetFullPath(Path.Combine(FileStorePaths.FromFileUri(location), TraceFiles.TracesFolder, traceId, TraceFiles.ArtifactsFolder));
                if (IsUnder(_root, candidate))
                {
                    return (candidate, location.TrimEnd('/') + "/" + TraceFiles.TracesFolder + "/" + traceId + "/" + TraceFiles.ArtifactsFolder);
                }
            }
            catch (ArgumentException)
            {
                // not a local file URI: the trace's own folder below
            }
        }

        var own = Path.Combine(traceDir, TraceFiles.ArtifactsFolder);
        return (own, FileStorePaths.ToFileUri(own));
    }

    /// <summary>The folder <c>traces.json</c> is read from: the trace's artifact location when it is under the root and holds it, else the trace's own <c>artifacts</c> folder (a moved store).</summary>
    private string TraceDataPath(string traceDir, TraceInfo info)
    {
        if (info.ArtifactLocation is { } location && location.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var path = Path.GetFullPath(Path.Combine(FileStorePaths.FromFileUri(location), TraceKeys.TraceDataFileName));
                if (IsUnder(_root, path) && File.Exists(path))
                {
                    return path;
                }
            }
            catch (ArgumentException)
            {
                // fall back to the trace's folder
            }
        }

        return Path.Combine(traceDir, TraceFiles.ArtifactsFolder, TraceKeys.TraceDataFileName);
    }

    // ------------------------------------------------------------------ reading and writing the files

    private TraceInfo ReadTrace(string traceDir, string traceId)
    {
        var infoPath = Path.Combine(traceDir, TraceFiles.TraceInfoFile);
        TraceInfo info;
        try
        {
            info = TraceFiles.ReadTraceInfo(ReadUtf8(infoPath));
        }
        catch (Exception ex) when (ex is FormatException or IOException)
        {
            throw StoreError(MlflowErrorCode.InvalidState, $"Trace with ID '{traceId}' metadata is in invalid state ({infoPath}: {ex.Message}).");
        }

        if (info.TraceId != traceId)
        {
            throw StoreError(MlflowErrorCode.InvalidState, $"Trace with ID '{traceId}' metadata is in invalid state (its trace_info.yaml names '{info.TraceId}').");
        }

        return info with
        {
            Metadata = ReadKeyValueFiles(Path.Combine(traceDir, TraceFiles.MetadataFolder)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            Tags = ReadKeyValueFiles(Path.Combine(traceDir, TraceFiles.TagsFolder)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            Assessments = ReadAssessments(traceDir),
        };
    }

    private IReadOnlyList<TraceSpan> ReadTraceData(string traceDir, TraceInfo info)
    {
        var path = TraceDataPath(traceDir, info);
        string text;
        try
        {
            text = ReadUtf8(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Trace '{info.TraceId}' has no span data (traces.json) at {path}.");
        }

        try
        {
            return TraceDataJson.Parse(text);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or MlflowException)
        {
            throw StoreError(MlflowErrorCode.InvalidState, $"The span data of trace '{info.TraceId}' ({path}) is not MLflow's: {ex.Message}");
        }
    }

    /// <summary>The assessments of a trace, oldest first; a file that is not an assessment is skipped and reported.</summary>
    private List<Assessment> ReadAssessments(string traceDir)
    {
        var dir = Path.Combine(traceDir, TraceFiles.AssessmentsFolder);
        var result = new List<Assessment>();
        if (!Directory.Exists(dir))
        {
            return result;
        }

        foreach (var file in Directory.EnumerateFiles(dir, "*" + TraceFiles.AssessmentExtension))
        {
            try
            {
                result.Add(TraceFiles.ReadAssessment(ReadUtf8(file)));
            }
            catch (FileNotFoundException)
            {
                // deleted while listing
            }
            catch (Exception ex) when (ex is FormatException or IOException or MlflowException)
            {
                FileStoreLog.SkippedEntity(_logger, file, "malformed assessment", ex);
            }
        }

        return result.OrderBy(a => a.CreateTimeMs ?? 0).ThenBy(a => a.AssessmentId, StringComparer.Ordinal).ToList();
    }

    private static Assessment ReadAssessment(string traceDir, string traceId, string assessmentId)
    {
        ValidateTraceFileId(assessmentId, "assessment id");
        var path = Path.Combine(traceDir, TraceFiles.AssessmentsFolder, assessmentId + TraceFiles.AssessmentExtension);
        try
        {
            return TraceFiles.ReadAssessment(ReadUtf8(path));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Assessment with ID '{assessmentId}' not found for trace '{traceId}'");
        }
        catch (FormatException ex)
        {
            throw StoreError(MlflowErrorCode.InvalidState, $"Failed to load assessment with ID '{assessmentId}' for trace '{traceId}': {ex.Message}");
        }
    }

    /// <summary>Writes an assessment file; the temporary file goes to the trace folder, never to <c>assessments/</c>, which MLflow reads whole.</summary>
    private void WriteAssessment(string traceDir, Assessment assessment)
    {
        ValidateTraceFileId(assessment.AssessmentId, "assessment id");
        var path = Path.Combine(traceDir, TraceFiles.AssessmentsFolder, assessment.AssessmentId + TraceFiles.AssessmentExtension);
        WriteTextAtomically(traceDir, path, TraceFiles.WriteAssessment(assessment));
    }

    /// <summary>One file per key with the raw value, as MLflow writes trace metadata and tags (temporary files in the trace folder).</summary>
    private void WriteKeyValueFolder(string traceDir, string folder, IReadOnlyDictionary<string, string> values, string kind)
    {
        var dir = Path.Combine(traceDir, folder);
        Directory.CreateDirectory(dir);
        foreach (var (key, value) in values)
        {
            WriteTextAtomically(traceDir, FileStorePaths.Combine(_root, dir, key, kind), value);
        }
    }

    /// <summary>Writes a new file atomically; <see langword="false"/> when it already exists (another writer was first).</summary>
    private bool TryCreateAtomically(string tempDir, string target, string text)
    {
        var temp = Path.Combine(tempDir, ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllBytes(temp, System.Text.Encoding.UTF8.GetBytes(text));
            try
            {
                File.Move(temp, target, overwrite: false);
            }
            catch (IOException) when (File.Exists(target))
            {
                return false;
            }

            MarkForFlushToDisk(target);
            return true;
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// A trace or assessment id that is a plain, portable file name: a letter or digit, then letters, digits, '-', '_'
    /// or '.', at most 256 characters (MLflow's <c>tr-…</c> and <c>a-…</c> ids are).
    /// </summary>
    private static void ValidateTraceFileId(string? id, string kind)
    {
        var ok = !string.IsNullOrEmpty(id) && id.Length <= MaxTraceIdLength && char.IsAsciiLetterOrDigit(id[0])
            && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            && FileStorePaths.IsPortableFileName(id, out _);
        if (!ok)
        {
            throw new MlflowValidationException(id, string.Create(CultureInfo.InvariantCulture,
                $"a {kind} in the local store is a file name: a letter or digit, then letters, digits, '-', '_' or '.' (at most {MaxTraceIdLength} characters)"), kind);
        }
    }
}
