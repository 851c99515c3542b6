// Dataset inputs and the run tags that hold lists (tables, models): straight to the store, or to the run's offline copy.
namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>
    /// Records dataset inputs of a run: on the store directly; while the run is offline (or when the server cannot be
    /// reached and the offline fallback is on) in the run's local copy, which the drain and <c>mlflow-sync</c> send.
    /// </summary>
    internal Task LogInputsAsync(ActiveRun run, IReadOnlyList<DatasetInput> inputs, CancellationToken cancellationToken)
        => _offlineLayer is null
            ? _store.LogInputsAsync(run.RunId, inputs, cancellationToken)
            : _offlineLayer.SendOrKeepAsync(
                run.Buffer,
                ct => _store.LogInputsAsync(run.RunId, inputs, ct),
                (store, localRunId) => store.LogInputsAsync(localRunId, inputs, cancellationToken),
                cancellationToken);

    /// <summary>The value of a run tag as the store has it now, or <see langword="null"/> when unset or the store cannot be read.</summary>
    internal async Task<string?> ReadRunTagAsync(ActiveRun run, string key, CancellationToken cancellationToken)
    {
        try
        {
            var stored = run.Mirror is { LocalOnly: true } mirror
                ? await _offline!.Store.GetRunAsync(mirror.LocalRunId, cancellationToken).ConfigureAwait(false)
                : await _store.GetRunAsync(run.RunId, cancellationToken).ConfigureAwait(false);
            return stored.Data.Tags.LastOrDefault(t => t.Key == key)?.Value;
        }
        catch (MlflowException)
        {
            return null; // offline: what this run logs from now on is still listed
        }
    }
}
