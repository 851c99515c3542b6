using System.Diagnostics;
using System.Text;

namespace Mlflow.Client;

/// <summary>
/// One run as an in-memory tracker (<see cref="MlflowTracker.CreateInMemory"/>) recorded it, for a test to assert on:
/// its name, status, params, tags, every metric point, inputs, artifact files and child runs. A snapshot: it does not
/// change when the run logs more (read <see cref="MlflowTracker.Recorded"/> again).
/// </summary>
[DebuggerDisplay("Recorded run {RunName} {Status}")]
public sealed class RecordedRun
{
    internal RecordedRun(
        RunInfo info,
        string? parentRunId,
        IReadOnlyDictionary<string, string> @params,
        IReadOnlyDictionary<string, string> tags,
        IReadOnlyDictionary<string, double> metrics,
        IReadOnlyDictionary<string, IReadOnlyList<Metric>> metricHistory,
        IReadOnlyList<DatasetInput> inputs,
        IReadOnlyDictionary<string, byte[]> artifacts)
    {
        Info = info;
        ParentRunId = parentRunId;
        Params = @params;
        Tags = tags;
        Metrics = metrics;
        MetricHistory = metricHistory;
        Inputs = inputs;
        Artifacts = artifacts;
    }

    /// <summary>The run's id.</summary>
    public string RunId => Info.RunId;

    /// <summary>The run's name (given, generated, or set later through the <c>mlflow.runName</c> tag).</summary>
    public string RunName => Info.RunName ?? "";

    /// <summary>The experiment the run belongs to.</summary>
    public string ExperimentId => Info.ExperimentId;

    /// <summary><see cref="RunStatus.Running"/> until the run ended, then the status it ended with (FINISHED, FAILED, KILLED).</summary>
    public RunStatus Status => Info.Status;

    /// <summary>The run as the store describes it (times, user, artifact URI).</summary>
    public RunInfo Info { get; }

    /// <summary>The id of the parent run (tag <c>mlflow.parentRunId</c>); <see langword="null"/> for a top-level run.</summary>
    public string? ParentRunId { get; }

    /// <summary>Every param, key → value.</summary>
    public IReadOnlyDictionary<string, string> Params { get; }

    /// <summary>Every tag, key → value, system tags (<c>mlflow.*</c>) included.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; }

    /// <summary>The latest value of each metric: the point with the highest (step, timestamp, value), as MLflow shows it.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; }

    /// <summary>Every point of each metric (value, step, timestamp), in the order they were logged.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Metric>> MetricHistory { get; }

    /// <summary>The dataset inputs logged to the run.</summary>
    public IReadOnlyList<DatasetInput> Inputs { get; }

    /// <summary>Every artifact file, its path under the run's artifact root ('/'-separated) → its bytes.</summary>
    public IReadOnlyDictionary<string, byte[]> Artifacts { get; }

    /// <summary>The child runs (started with <see cref="ActiveRun.StartChildRun"/>), in the order they were started.</summary>
    public IReadOnlyList<RecordedRun> Children => ChildList;

    internal List<RecordedRun> ChildList { get; } = [];

    /// <summary>The text (UTF-8) of one artifact file.</summary>
    /// <param name="artifactPath">The file's path under the run's artifact root, for example <c>outputs/summary.txt</c>.</param>
    /// <returns>The text.</returns>
    /// <exception cref="KeyNotFoundException">The run has no such artifact file.</exception>
    public string ArtifactText(string artifactPath)
        => Artifacts.TryGetValue(artifactPath, out var bytes)
            ? Encoding.UTF8.GetString(bytes)
            : throw new KeyNotFoundException($"Run '{RunName}' has no artifact '{artifactPath}'; it has: {(Artifacts.Count == 0 ? "none" : string.Join(", ", Artifacts.Keys))}.");
}
