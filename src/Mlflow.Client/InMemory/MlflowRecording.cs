namespace Mlflow.Client;

/// <summary>
/// What an in-memory tracker (<see cref="MlflowTracker.CreateInMemory"/>) recorded, from <see cref="MlflowTracker.Recorded"/>:
/// a snapshot of every run, taken after what was logged so far was delivered.
/// </summary>
public sealed class MlflowRecording
{
    internal MlflowRecording(IReadOnlyList<RecordedRun> runs)
    {
        Runs = runs;
    }

    /// <summary>Every run, child runs included, in the order they were started.</summary>
    public IReadOnlyList<RecordedRun> Runs { get; }

    /// <summary>The runs without a parent, in the order they were started (their children are in <see cref="RecordedRun.Children"/>).</summary>
    public IReadOnlyList<RecordedRun> TopLevelRuns => Runs.Where(r => r.ParentRunId is null).ToList();

    /// <summary>The one run with that name.</summary>
    /// <param name="runName">The run name.</param>
    /// <returns>The run.</returns>
    /// <exception cref="InvalidOperationException">No run, or several runs, have that name; the message lists the names recorded.</exception>
    public RecordedRun Run(string runName)
    {
        var matches = Runs.Where(r => r.RunName == runName).ToList();
        return matches.Count == 1
            ? matches[0]
            : throw new InvalidOperationException($"{(matches.Count == 0 ? "No" : matches.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))} recorded run{(matches.Count > 1 ? "s are" : " is")} named '{runName}'; the runs recorded are: {(Runs.Count == 0 ? "none" : string.Join(", ", Runs.Select(r => "'" + r.RunName + "'")))}.");
    }
}
