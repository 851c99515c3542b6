// Step 7, status: the run's final status and end time, sent last and only when everything else arrived.
namespace Mlflow.Client.Sync;

internal sealed partial class RunSynchronizer
{
    private static async Task SendStatusAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var info = s.Local!.Info;
        var journal = s.Journal!;
        var status = (int)info.Status;
        if (journal.Status == status && journal.EndTime == info.EndTime)
        {
            return;
        }

        if (info.Status == RunStatus.Running && journal.Status is null)
        {
            return; // a run still in progress stays RUNNING, as created
        }

        await target.UpdateRunAsync(s.ServerRunId!, info.Status, info.EndTime, null, ct).ConfigureAwait(false);
        journal.Status = status;
        journal.EndTime = info.EndTime;
        journal.Save(s.JournalPath!);
        s.StatusSent = true;
    }
}
