// The in-memory tracker for the user's own tests: the same tracker over a store that keeps everything in memory.
using Mlflow.Client.InMemory;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>
    /// Creates a tracker that keeps every run, param, metric point, tag, input and artifact file in memory, for unit
    /// tests of code that logs: it behaves as a tracker from <see cref="Create"/> (same <see cref="ActiveRun"/> API,
    /// the same validation and exceptions, background batching, child runs, end statuses, artifacts read back, a model
    /// registry) and touches neither disk nor network. Assert on <see cref="Recorded"/>.
    /// </summary>
    /// <param name="options">Experiment, batching, value policy and logging; the tracking URI, client and offline settings
    /// are ignored. The environment (<c>MLFLOW_*</c>) is not read, so a test runs the same everywhere.</param>
    /// <returns>A tracker; dispose it at the end (what it recorded stays readable).</returns>
    /// <remarks>Keys follow the strictest rule of a real tracker (MLflow's, plus the local store's file names), so a
    /// key refused in production is refused in the test. <see cref="ActiveRun.DataLocation"/> reports
    /// <see cref="RunDataLocation.LocalStore"/>; <see cref="Destination"/> is <c>in-memory store</c>. Process exit and
    /// termination signals are not hooked. Registered model versions record <c>memory:</c> sources, which
    /// <see cref="MlflowModelRegistry.DownloadModel"/> copies out of memory.</remarks>
    public static MlflowTracker CreateInMemory(MlflowTrackerOptions? options = null)
    {
        options ??= new MlflowTrackerOptions();
        options.Validate();
        if (options.Batching.QueueFullPolicy == QueueFullPolicy.SpillToLocalStore)
        {
            throw new NotSupportedException("QueueFullPolicy.SpillToLocalStore needs a tracking server: with an in-memory store there is nothing to spill to. Use QueueFullPolicy.Wait.");
        }

        var environment = EnvironmentReader.FromDictionary(new Dictionary<string, string>(StringComparer.Ordinal));
        var store = new InMemoryTrackingStore();
        return new MlflowTracker(store, options, null, environment, ownsStore: true, handleProcessExit: false) { InMemoryStore = store };
    }

    /// <summary>The store of a tracker from <see cref="CreateInMemory"/>, which <see cref="Recorded"/> reads; <see langword="null"/> for any other tracker.</summary>
    private InMemoryTrackingStore? InMemoryStore { get; init; }

    /// <summary>
    /// What an in-memory tracker (<see cref="CreateInMemory"/>) recorded: every run with its params, tags, metric
    /// history, inputs, artifact files and children. Reading it first waits (within
    /// <see cref="MlflowBatchingOptions.ShutdownTimeout"/>) until everything logged so far was delivered, so a test sees
    /// every call made before; the result is a snapshot.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tracker was not created by <see cref="CreateInMemory"/>.</exception>
    public MlflowRecording Recorded
    {
        get
        {
            if (InMemoryStore is not { } memory)
            {
                throw new InvalidOperationException("Only a tracker from MlflowTracker.CreateInMemory() records what it logs; this one logs to " + Destination + ".");
            }

            if (Volatile.Read(ref _disposed) == 0)
            {
                _batcher.FlushAllAsync(ShutdownTimeout).GetAwaiter().GetResult();
            }

            return new MlflowRecording(memory.Snapshot());
        }
    }
}
