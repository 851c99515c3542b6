using Mlflow.Client;
using Mlflow.Client.Tracing;

namespace OpenTelemetry.Trace;

/// <summary>Adds the MLflow trace exporter to an OpenTelemetry tracer provider.</summary>
public static class MlflowTracerProviderBuilderExtensions
{
    /// <summary>
    /// Exports the provider's spans as MLflow traces to a tracker's store (a tracking server, MLflow 3), one trace per
    /// root span, linked to the tracker's active run and in its experiment, through a batch processor and a bounded
    /// background queue. Adds the source of manual spans (<see cref="MlflowTracer.ActivitySourceName"/>); add the
    /// instrumented libraries' sources yourself (<c>AddSource("Experimental.Microsoft.Extensions.AI")</c>).
    /// </summary>
    /// <param name="builder">The tracer provider's builder.</param>
    /// <param name="tracker">The tracker.</param>
    /// <param name="configure">Changes the settings (the run to link to, limits, logging); <see cref="MlflowTracingOptions.ActivitySources"/> is not used here.</param>
    /// <returns>The builder.</returns>
    public static TracerProviderBuilder AddMlflowExporter(this TracerProviderBuilder builder, MlflowTracker tracker, Action<MlflowTracingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(tracker);
        var options = Configure(configure);
        return Add(builder, new TraceDestination.Tracker(tracker, options.RunId), options);
    }

    /// <summary>
    /// Exports the provider's spans as MLflow traces to one experiment of a tracking server (MLflow 3), one trace per
    /// root span, through a batch processor and a bounded background queue. Adds the source of manual spans
    /// (<see cref="MlflowTracer.ActivitySourceName"/>).
    /// </summary>
    /// <param name="builder">The tracer provider's builder.</param>
    /// <param name="client">The server's client.</param>
    /// <param name="experimentId">The experiment.</param>
    /// <param name="configure">Changes the settings (the run to link to, limits, logging).</param>
    /// <returns>The builder.</returns>
    public static TracerProviderBuilder AddMlflowExporter(this TracerProviderBuilder builder, MlflowClient client, string experimentId, Action<MlflowTracingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(experimentId);
        var options = Configure(configure);
        return Add(builder, new TraceDestination.Client(client, experimentId, options.RunId), options);
    }

    private static MlflowTracingOptions Configure(Action<MlflowTracingOptions>? configure)
    {
        var options = new MlflowTracingOptions();
        configure?.Invoke(options);
        options.Validate();
        return options;
    }

    private static TracerProviderBuilder Add(TracerProviderBuilder builder, TraceDestination destination, MlflowTracingOptions options)
    {
#pragma warning disable CA2000 // the processor owns the exporter, the provider owns the processor
        var exporter = new MlflowTraceExporter(destination, options);
        return builder.AddSource(MlflowTracer.ActivitySourceName).AddProcessor(new MlflowTraceExportProcessor(exporter, options.TimeProvider));
#pragma warning restore CA2000
    }
}
