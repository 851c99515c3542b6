// Step 5, dataset inputs: sent once each, known by their hash.
namespace Mlflow.Client.Sync;

internal sealed partial class RunSynchronizer
{
    private static async Task SendInputsAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        var pending = s.Local!.Inputs.DatasetInputs.Where(d => !journal.Inputs.Contains(InputHash(d))).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        try
        {
            await target.LogInputsAsync(s.ServerRunId!, pending, ct).ConfigureAwait(false);
            journal.Inputs.AddRange(pending.Select(InputHash));
            journal.Save(s.JournalPath!);
            s.InputsSent += pending.Count;
        }
        catch (MlflowException ex) when (ex.Kind == MlflowFailureKind.Rejected)
        {
            s.Errors.Add($"Dataset inputs were refused by the server: {ex.Message}");
        }
    }

    private static string InputHash(DatasetInput d)
        => SyncJournal.Hash(string.Join('\n', [d.Dataset.Name, d.Dataset.Digest, .. d.Tags.Select(t => t.Key + "=" + t.Value)]));
}
