using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Tracing;

/// <summary>Settings of the trace capture and export (<see cref="MlflowTracer"/>, <c>AddMlflowExporter</c>).</summary>
public sealed class MlflowTracingOptions
{
    /// <summary>Microsoft.Extensions.AI's source (<c>IChatClient.AsBuilder().UseOpenTelemetry()</c>, <c>UseFunctionInvocation()</c>).</summary>
    public const string MicrosoftExtensionsAISource = "Experimental.Microsoft.Extensions.AI";

    /// <summary>Semantic Kernel's sources (kernel functions, model calls), as a prefix pattern.</summary>
    public const string SemanticKernelSources = "Microsoft.SemanticKernel*";

    /// <summary>
    /// The activity sources <see cref="MlflowTracer"/> listens to, besides its own manual spans: exact names, or a
    /// prefix ending with <c>*</c>. By default Microsoft.Extensions.AI's and Semantic Kernel's. Message contents are only
    /// recorded when the library is told to (<c>UseOpenTelemetry(configure: c =&gt; c.EnableSensitiveData = true)</c>;
    /// Semantic Kernel's switch <c>Microsoft.SemanticKernel.Experimental.GenAI.EnableOTelDiagnosticsSensitive</c>).
    /// The OpenTelemetry exporter exports what its <c>TracerProviderBuilder</c>'s sources give it and ignores this list.
    /// The same setting as <c>LlmEvaluationOptions.ActivitySources</c> of an evaluation.
    /// </summary>
    public IReadOnlyList<string> ActivitySources { get; set; } = [MicrosoftExtensionsAISource, SemanticKernelSources];

    /// <summary>
    /// The run traces are linked to (trace metadata <c>mlflow.sourceRun</c>, as MLflow's Python does inside a run).
    /// <see langword="null"/>: with a tracker, the run it started most recently that is still active when the trace's
    /// root span ends; with a client, none.
    /// </summary>
    public string? RunId { get; set; }

    /// <summary>Finished traces waiting to be sent; a trace finished while that many wait is dropped (and logged). Default 1,000.</summary>
    public int MaxQueuedTraces { get; set; } = 1000;

    /// <summary>Traces whose root span has not ended yet; when another starts, the oldest is dropped (and logged). Default 1,000.</summary>
    public int MaxPendingTraces { get; set; } = 1000;

    /// <summary>Spans kept per trace; later ones are dropped (and logged). Default 1,000.</summary>
    public int MaxSpansPerTrace { get; set; } = 1000;

    /// <summary>How long disposing the tracer (or shutting the tracer provider down) waits for queued traces to be sent. Default 10 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Where failures to send a trace are logged; none when <see langword="null"/>.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The clock of flush and shutdown timeouts.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit below 1, or a negative timeout.</exception>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedTraces, 1, nameof(MaxQueuedTraces));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingTraces, 1, nameof(MaxPendingTraces));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSpansPerTrace, 1, nameof(MaxSpansPerTrace));
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownTimeout, TimeSpan.Zero, nameof(ShutdownTimeout));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(ActivitySources, nameof(ActivitySources));
        if (ActivitySources.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("An activity source name is empty.", nameof(ActivitySources));
        }
    }
}
