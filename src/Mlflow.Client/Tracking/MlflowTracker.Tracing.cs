// What the trace capture of the Mlflow.Client.Evaluation package reads from the tracker: the run a trace that ends now
// belongs to (as MLflow's Python links a trace to the active run), and the user it is logged as.
namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>The run started most recently that has not ended, or <see langword="null"/>.</summary>
    internal ActiveRun? LatestActiveRun
    {
        get
        {
            lock (_runsLock)
            {
                for (var i = _activeRuns.Count - 1; i >= 0; i--)
                {
                    if (!_activeRuns[i].IsEnded)
                    {
                        return _activeRuns[i];
                    }
                }

                return null;
            }
        }
    }

    /// <summary>The tracker's run with this id (its own id or, for a run that went offline, the server's) that has not ended, or <see langword="null"/>.</summary>
    internal ActiveRun? FindActiveRun(string runId)
    {
        lock (_runsLock)
        {
            return _activeRuns.FirstOrDefault(r => !r.IsEnded && (r.RunId == runId || r.ServerRunId == runId));
        }
    }

    /// <summary>The user runs and traces are logged as (<c>mlflow.user</c>).</summary>
    internal string User => _user;
}
