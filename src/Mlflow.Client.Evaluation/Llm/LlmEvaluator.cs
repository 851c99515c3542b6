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
        var traceRunId = run.IsOffline ? null : run.ServerRunId;
        var context = new RecordContext(run.ExperimentId, traceRunId, store, recorder, list, options, logger, SystemTags.ResolveUser(null));
        var rows = new LlmEvaluationRow[dataset.Records.Count];
        var done = 0;
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

        var tracesLogged = traceRunId is not null && !context.TracesUnsupported && rows.All(r => r.TraceId is not null);
        if (traceRunId is not null && store.ServerClient is { } client)
        {
            await LinkAsync(client, traceRunId, rows.Where(r => r.TraceId is not null).Select(r => r.TraceId!).ToList(), logger, cancellationToken).ConfigureAwait(false);
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

        if (traceRunId is null || context.TracesUnsupported)
        {
            LlmEvaluationLog.NoTraces(
                logger,
                run.RunId,
                context.TracesUnsupported ? "the tracker's store keeps no traces (a local store, today)" : "the run is not on the tracking server",
                EvaluationResult.TableArtifactFile);
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
        var rootSpanId = TraceIds.NewSpanId();
        var started = clock.GetUtcNow();
        var timestamp = clock.GetTimestamp();
        Prediction? prediction = null;
        Exception? failure = null;
        try
        {
            prediction = await predict(record.Inputs, cancellationToken).ConfigureAwait(false) ?? Prediction.FromJsonNode(null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            failure = ex;
        }

        var duration = clock.GetElapsedTime(timestamp);
        var ended = clock.GetUtcNow();
        var error = failure is null ? null : $"The application failed for record {index}: {failure.GetType().Name}: {failure.Message}";
        var appSpans = ApplicationSpans(prediction, rootSpanId, started, ended, record);
        var input = new ScorerInput(record.Inputs, prediction?.Outputs, record.Expectations, appSpans, duration)
        {
            Error = error,
            ParentSpanId = rootSpanId,
            Clock = clock,
        };

        var feedback = new List<Feedback>(context.Scorers.Count);
        foreach (var scorer in context.Scorers)
        {
            feedback.Add(await ScoreAsync(scorer, input, context.Logger, cancellationToken).ConfigureAwait(false));
        }

        string? traceId = null;
        if (context.TraceRunId is { } runId && !context.TracesUnsupported)
        {
            var root = RootSpan(context.Options.TraceName, rootSpanId, started, ended, record, prediction, failure);
            var spans = new List<TraceSpan> { root };
            spans.AddRange(appSpans);
            spans.AddRange(input.JudgeSpans);
            try
            {
                traceId = await context.Recorder.RecordAsync(new RecordTrace(TraceIds.NewTraceId(), context.ExperimentId, runId, spans, record.Tags), cancellationToken).ConfigureAwait(false);
            }
            catch (NotSupportedException)
            {
                context.TracesUnsupported = true;
            }
            catch (Exception ex) when (ex is MlflowException or HttpRequestException)
            {
                LlmEvaluationLog.TraceNotLogged(context.Logger, index, ex.Message, ex);
            }

            if (traceId is not null)
            {
                await LogAssessmentsAsync(context, traceId, runId, rootSpanId, record, feedback, cancellationToken).ConfigureAwait(false);
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

    private static async Task LogAssessmentsAsync(RecordContext context, string traceId, string runId, string rootSpanId, EvaluationRecord record, List<Feedback> feedback, CancellationToken cancellationToken)
    {
        // A feedback with neither a value nor an error (a scorer with nothing to say: no token usage reported, a custom
        // scorer returning null) is no assessment MLflow can hold; it stays in the result table only.
        var assessments = feedback.Where(f => f.Value is not null || f.Error is not null).Select(f => f.ToAssessment(traceId, runId, rootSpanId)).ToList();
        assessments.AddRange(record.Expectations
            .Where(e => e.Value is not null)
            .Select(e => Assessment.CreateExpectation(traceId, e.Key, e.Value!.DeepClone(), AssessmentSource.Human(context.User), runId, rootSpanId)));
        foreach (var assessment in assessments)
        {
            try
            {
                await context.Store.CreateAssessmentAsync(assessment, cancellationToken).ConfigureAwait(false);
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

    private static List<TraceSpan> ApplicationSpans(Prediction? prediction, string rootSpanId, DateTimeOffset started, DateTimeOffset ended, EvaluationRecord record)
    {
        var spans = new List<TraceSpan>();
        if (prediction is null)
        {
            return spans;
        }

        if (prediction.RetrievedContext is { Count: > 0 } context)
        {
            spans.Add(RetrievedDocuments.Span(context, rootSpanId, LlmJudge.UnixNanos(started), LlmJudge.UnixNanos(ended), InputsObject(record)));
        }

        spans.AddRange(prediction.Spans.Select(s => s.ParentSpanId is null ? s with { ParentSpanId = rootSpanId } : s));
        return spans;
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
        string ExperimentId,
        string? TraceRunId,
        Store.ITrackingStore Store,
        ITraceRecorder Recorder,
        IReadOnlyList<IScorer> Scorers,
        LlmEvaluationOptions Options,
        ILogger Logger,
        string User)
    {
        /// <summary>Set once the store said it keeps no traces: the other records do not try again.</summary>
        public volatile bool TracesUnsupported;
    }
}
