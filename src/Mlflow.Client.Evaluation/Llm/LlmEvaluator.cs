using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// The evaluation loop, as <c>mlflow.genai.evaluate</c> runs it: predict each record (bounded concurrency), score the
/// answer, record the record's trace linked to the run, log each feedback and the record's expectations as assessments
/// on it, link the traces to the run, and log the aggregates per feedback name onto the run.
/// </summary>
internal static class LlmEvaluator
{
    internal const string RunTypeTag = "mlflow.runType";
    internal const string RunTypeGenAiEvaluate = "genai_evaluate";
    internal const string ScorerError = "SCORER_ERROR";
    private const int LinkBatchSize = 100;

    public static async Task<LlmEvaluationResult> RunAsync(
        ActiveRun run,
        EvaluationDataset dataset,
        Func<IReadOnlyDictionary<string, JsonNode?>, CancellationToken, Task<Prediction>> predict,
        IEnumerable<IScorer> scorers,
        LlmEvaluationOptions? options,
        Store.ITrackingStore store,
        ITraceRecorder recorder,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(predict);
        ArgumentNullException.ThrowIfNull(scorers);
        options ??= new LlmEvaluationOptions();
        if (options.MaxConcurrency < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxConcurrency, "MaxConcurrency must be 1 or more.");
        }

        ArgumentException.ThrowIfNullOrEmpty(options.TraceName, nameof(options));
        if (options.ActivitySources is null || options.ActivitySources.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("LlmEvaluationOptions.ActivitySources is null or names an empty activity source.", nameof(options));
        }

        var list = scorers.ToList();
        if (list.Any(s => s is null))
        {
            throw new ArgumentException("A scorer is null.", nameof(scorers));
        }

        var duplicate = list.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Two scorers are named '{duplicate.Key}'; give each its own name (the run's metrics are named after them).", nameof(scorers));
        }

        var logger = options.Logger ?? NullLogger.Instance;
        run.SetTag(RunTypeTag, RunTypeGenAiEvaluate);
        await run.LogInputAsync(dataset.ToRunInput(), null, cancellationToken).ConfigureAwait(false);

        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(recorder);
        var rows = new LlmEvaluationRow[dataset.Records.Count];
        var done = 0;
        using var capture = new RecordSpanCapture(options.ActivitySources, logger);
        var context = new RecordContext(recorder, capture, list, options, logger, SystemTags.ResolveUser(null));
        using (var gate = new SemaphoreSlim(options.MaxConcurrency))
        {
            var tasks = dataset.Records.Select(async (record, index) =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    rows[index] = await EvaluateRecordAsync(context, index, record, predict, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }

                options.Progress?.Report(Interlocked.Increment(ref done));
            }).ToList();
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }

        var tracesLogged = !context.TracesUnsupported && rows.All(r => r.TraceId is not null);
        if (run.ServerRunId is { } serverRunId && store.ServerClient is { } client)
        {
            // Traces kept in the run's offline copy are linked by the run named in their metadata when they are pushed.
            await LinkAsync(client, serverRunId, context.OnServer.ToList(), logger, cancellationToken).ConfigureAwait(false);
        }

        var metrics = Aggregate(rows, list);
        if (metrics.Count > 0)
        {
            run.LogMetrics(metrics);
        }

        var result = new LlmEvaluationResult(run.RunId, rows, metrics, tracesLogged);
        if (options.LogResultsTable ?? !tracesLogged)
        {
            await run.LogTableAsync(result.ToTable(), EvaluationResult.TableArtifactFile, cancellationToken).ConfigureAwait(false);
        }

        if (context.TracesUnsupported)
        {
            LlmEvaluationLog.NoTraces(logger, run.RunId, "the tracker's store keeps no traces", EvaluationResult.TableArtifactFile);
        }

        return result;
    }

    /// <summary>The aggregates MLflow logs: per feedback name, the scorer's aggregations (mean by default) over the values that are numbers, yes/no or booleans.</summary>
    internal static Dictionary<string, double> Aggregate(IReadOnlyList<LlmEvaluationRow> rows, IReadOnlyList<IScorer> scorers)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var values = rows.SelectMany(r => r.Feedback)
            .Select(f => (f.Name, Value: f.NumericValue))
            .Where(x => x.Value is not null)
            .GroupBy(x => x.Name, x => x.Value!.Value, StringComparer.Ordinal);
        foreach (var group in values)
        {
            var scores = group.ToList();
            var aggregations = scorers.FirstOrDefault(s => s.Name == group.Key)?.Aggregations ?? ScoreAggregations.Mean;
            void Add(ScoreAggregations which, string suffix, Func<double> compute)
            {
                if (aggregations.HasFlag(which))
                {
                    metrics[group.Key + "/" + suffix] = compute();
                }
            }

            var mean = scores.Average();
            Add(ScoreAggregations.Min, "min", scores.Min);
            Add(ScoreAggregations.Max, "max", scores.Max);
            Add(ScoreAggregations.Mean, "mean", () => mean);
            Add(ScoreAggregations.Median, "median", () => Evaluator.Percentile(scores, 50));
            Add(ScoreAggregations.Variance, "variance", () => scores.Sum(s => (s - mean) * (s - mean)) / scores.Count);
            Add(ScoreAggregations.P90, "p90", () => Evaluator.Percentile(scores, 90));
        }

        return metrics;
    }

    private static async Task<LlmEvaluationRow> EvaluateRecordAsync(RecordContext context, int index, EvaluationRecord record, Func<IReadOnlyDictionary<string, JsonNode?>, CancellationToken, Task<Prediction>> predict, CancellationToken cancellationToken)
    {
        var clock = context.Options.TimeProvider;
        Prediction? prediction = null;
        Exception? failure = null;
        IReadOnlyList<TraceSpan> captured;
        // The application answers under the record's root activity: what it traces (chat clients, Semantic Kernel,
        // manual spans) nests in the record's trace. The scorers run after the root ended, outside that trace, as
        // MLflow 3.11.1's evaluate scores outside the predict trace.
        var recording = context.Capture.Start(context.Options.TraceName);
        var started = clock.GetUtcNow();
        var timestamp = clock.GetTimestamp();
        try
        {
            prediction = await predict(record.Inputs, cancellationToken).ConfigureAwait(false) ?? Prediction.FromJsonNode(null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            failure = ex;
        }
        finally
        {
            captured = recording.Stop();
        }

        var duration = clock.GetElapsedTime(timestamp);
        var ended = clock.GetUtcNow();
        var rootSpanId = recording.RootSpanId;
        var error = failure is null ? null : $"The application failed for record {index}: {failure.GetType().Name}: {failure.Message}";
        var appSpans = ApplicationSpans(prediction, captured, rootSpanId, started, ended, record);
        var input = new ScorerInput(record.Inputs, prediction?.Outputs, record.Expectations, appSpans, duration)
        {
            Error = error,
            Clock = clock,
        };

        var feedback = new List<Feedback>(context.Scorers.Count);
        foreach (var scorer in context.Scorers)
        {
            feedback.Add(context.Options.TraceScorers && !context.TracesUnsupported
                ? await ScorerTraces.ScoreAsync(context.Capture, context.Recorder, scorer, input, traced => ScoreAsync(scorer, traced, context.Logger, cancellationToken), context.Logger, cancellationToken).ConfigureAwait(false)
                : await ScoreAsync(scorer, input, context.Logger, cancellationToken).ConfigureAwait(false));
        }

        string? traceId = null;
        if (!context.TracesUnsupported)
        {
            var root = RootSpan(context.Options.TraceName, rootSpanId, started, ended, record, prediction, failure);
            var spans = new List<TraceSpan> { root };
            spans.AddRange(appSpans);
            RunTrace? trace = null;
            try
            {
                trace = await context.Recorder.RecordAsync(new RecordTrace(recording.TraceId, spans, record.Tags), cancellationToken).ConfigureAwait(false);
                traceId = trace.Info.TraceId;
            }
            catch (NotSupportedException)
            {
                context.TracesUnsupported = true;
            }
            catch (Exception ex) when (ex is MlflowException or HttpRequestException)
            {
                LlmEvaluationLog.TraceNotLogged(context.Logger, index, ex.Message, ex);
            }

            if (trace is not null)
            {
                if (!trace.KeptOffline)
                {
                    context.OnServer.Enqueue(trace.Info.TraceId);
                }

                await LogAssessmentsAsync(context, trace, rootSpanId, record, feedback, cancellationToken).ConfigureAwait(false);
            }
        }

        return new LlmEvaluationRow
        {
            Index = index,
            Record = record,
            Outputs = prediction?.Outputs,
            TraceId = traceId,
            Duration = duration,
            Error = error,
            Feedback = feedback,
        };
    }

    private static async Task<Feedback> ScoreAsync(IScorer scorer, ScorerInput input, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var feedback = await scorer.ScoreAsync(input, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Scorer '{scorer.Name}' returned no feedback.");
            return feedback.Name.Length == 0 ? feedback with { Name = scorer.Name } : feedback;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LlmEvaluationLog.ScorerFailed(logger, scorer.Name, ex);
            return Feedback.Failed(scorer.Name, AssessmentSource.Code(scorer.Name), ScorerError, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private static async Task LogAssessmentsAsync(RecordContext context, RunTrace trace, string rootSpanId, EvaluationRecord record, List<Feedback> feedback, CancellationToken cancellationToken)
    {
        // A feedback with neither a value nor an error (a scorer with nothing to say: no token usage reported, a custom
        // scorer returning null) is no assessment MLflow can hold; it stays in the result table only.
        var traceId = trace.Info.TraceId;
        var runId = trace.RunId; // the run as the trace's store knows it (the local run id in an offline copy; the sync re-points it)
        var assessments = feedback.Where(f => f.Value is not null || f.Error is not null).Select(f => f.ToAssessment(traceId, runId, rootSpanId)).ToList();
        assessments.AddRange(record.Expectations
            .Where(e => e.Value is not null)
            .Select(e => Assessment.CreateExpectation(traceId, e.Key, e.Value!.DeepClone(), AssessmentSource.Human(context.User), runId, rootSpanId)));
        foreach (var assessment in assessments)
        {
            try
            {
                await context.Recorder.LogAssessmentAsync(trace, assessment, cancellationToken).ConfigureAwait(false);
            }
            catch (MlflowException ex)
            {
                LlmEvaluationLog.AssessmentRefused(context.Logger, traceId, assessment.Name, ex.Message, ex);
            }
        }
    }

    private static async Task LinkAsync(MlflowClient client, string runId, List<string> traceIds, ILogger logger, CancellationToken cancellationToken)
    {
        for (var i = 0; i < traceIds.Count; i += LinkBatchSize)
        {
            try
            {
                await client.LinkTracesToRunAsync(runId, traceIds.Skip(i).Take(LinkBatchSize), cancellationToken).ConfigureAwait(false);
            }
            catch (MlflowException ex)
            {
                // MLflow 3.11.1's file store links no traces; the traces name the run in their metadata (mlflow.sourceRun) instead.
                LlmEvaluationLog.NotLinked(logger, runId, ex.Message, ex);
                return;
            }
        }
    }

    /// <summary>
    /// The spans below the record's root: the retrieved context as a RETRIEVER span, the spans the application reported
    /// (without a parent: under the root) and those captured while it answered. A span whose parent is not in the trace
    /// goes under the root.
    /// </summary>
    private static List<TraceSpan> ApplicationSpans(Prediction? prediction, IReadOnlyList<TraceSpan> captured, string rootSpanId, DateTimeOffset started, DateTimeOffset ended, EvaluationRecord record)
    {
        var spans = new List<TraceSpan>();
        if (prediction?.RetrievedContext is { Count: > 0 } context)
        {
            spans.Add(RetrievedDocuments.Span(context, rootSpanId, LlmJudge.UnixNanos(started), LlmJudge.UnixNanos(ended), InputsObject(record)));
        }

        if (prediction is not null)
        {
            spans.AddRange(prediction.Spans.Select(s => s.ParentSpanId is null ? s with { ParentSpanId = rootSpanId } : s));
        }

        spans.AddRange(captured);
        var ids = spans.Select(s => s.SpanId).Append(rootSpanId).ToHashSet(StringComparer.Ordinal);
        return spans.Select(s => s.ParentSpanId is { } parent && !ids.Contains(parent) ? s with { ParentSpanId = rootSpanId } : s).ToList();
    }

    private static TraceSpan RootSpan(string name, string spanId, DateTimeOffset started, DateTimeOffset ended, EvaluationRecord record, Prediction? prediction, Exception? failure)
    {
        var events = failure is null
            ? []
            : new List<TraceSpanEvent>
            {
                new("exception", LlmJudge.UnixNanos(ended), new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
                {
                    ["exception.type"] = failure.GetType().FullName,
                    ["exception.message"] = failure.Message,
                }),
            };
        return new TraceSpan
        {
            SpanId = spanId,
            Name = name,
            StartTimeUnixNano = LlmJudge.UnixNanos(started),
            EndTimeUnixNano = LlmJudge.UnixNanos(ended),
            Status = failure is null ? TraceSpanStatus.Ok : TraceSpanStatus.Error,
            StatusMessage = failure is null ? "" : failure.GetType().Name + ": " + failure.Message,
            SpanType = SpanType.Chain,
            Inputs = InputsObject(record),
            Outputs = prediction?.Outputs?.DeepClone(),
            Events = events,
        };
    }

    private static JsonObject InputsObject(EvaluationRecord record)
    {
        var o = new JsonObject();
        foreach (var (key, value) in record.Inputs)
        {
            o[key] = value?.DeepClone();
        }

        return o;
    }

    private sealed record RecordContext(
        ITraceRecorder Recorder,
        RecordSpanCapture Capture,
        IReadOnlyList<IScorer> Scorers,
        LlmEvaluationOptions Options,
        ILogger Logger,
        string User)
    {
        /// <summary>Set once the store said it keeps no traces: the other records do not try again.</summary>
        public volatile bool TracesUnsupported;

        /// <summary>The traces logged to the server (not kept offline): linked to the run at the end.</summary>
        public ConcurrentQueue<string> OnServer { get; } = new();
    }
}
