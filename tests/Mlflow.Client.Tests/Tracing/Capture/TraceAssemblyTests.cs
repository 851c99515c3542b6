using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracing.Capture;

/// <summary>
/// Spans grouped into one trace per root (root first, children with their parents), within the memory bounds; the
/// trace's token usage summed as MLflow sums it; what counts as a root; the trace info built for a trace.
/// </summary>
[TestFixture]
public class TraceAssemblyTests
{
    private const string TraceA = "tr-0123456789abcdef0123456789abcdef";
    private const string TraceB = "tr-fedcba9876543210fedcba9876543210";

    private static TraceSpan Span(string traceId, string id, string? parent, long start = 1_000, JsonObject? usage = null) => new()
    {
        TraceId = traceId,
        SpanId = id,
        ParentSpanId = parent,
        Name = "s" + id[^1],
        StartTimeUnixNano = start,
        EndTimeUnixNano = start + 10,
        Attributes = usage is null ? null! : new Dictionary<string, JsonNode?> { ["mlflow.chat.tokenUsage"] = usage },
    };

    private static JsonObject Usage(int input, int output) => new() { ["input_tokens"] = input, ["output_tokens"] = output, ["total_tokens"] = input + output };

    [Test]
    public void ChildrenWait_UntilTheRootEnds_ThenTheTraceComesRootFirst()
    {
        var assembler = new TraceAssembler(10, 10, NullLogger.Instance);

        Assert.That(assembler.Add(Span(TraceA, "0000000000000002", "0000000000000001", start: 300), isRoot: false), Is.Null);
        Assert.That(assembler.Add(Span(TraceB, "00000000000000b1", null), isRoot: true)!.Spans, Has.Count.EqualTo(1), "another trace is its own");
        Assert.That(assembler.Add(Span(TraceA, "0000000000000003", "0000000000000001", start: 200), isRoot: false), Is.Null);
        var trace = assembler.Add(Span(TraceA, "0000000000000001", "00000000000000ff", start: 100), isRoot: true);

        Assert.That(trace!.TraceId, Is.EqualTo(TraceA));
        Assert.That(trace.Spans.Select(s => s.SpanId), Is.EqualTo(new[] { "0000000000000001", "0000000000000003", "0000000000000002" }), "root first, then by start");
        Assert.That(trace.Root.ParentSpanId, Is.Null, "the root of the MLflow trace has no parent, even with an uncaptured one");
        Assert.That(assembler.PendingTraces, Is.Zero);
    }

    [Test]
    public void PendingTraces_AreBounded_TheOldestIsDropped()
    {
        var assembler = new TraceAssembler(2, 10, NullLogger.Instance);
        for (var i = 0; i < 3; i++)
        {
            assembler.Add(Span($"tr-{i:x32}", "0000000000000002", "0000000000000001"), isRoot: false);
        }

        Assert.That(assembler.PendingTraces, Is.EqualTo(2));
        Assert.That(assembler.DroppedSpans, Is.EqualTo(1));
        Assert.That(assembler.Add(Span($"tr-{0:x32}", "0000000000000001", null), isRoot: true)!.Spans, Has.Count.EqualTo(1), "the oldest trace's child was dropped");
        Assert.That(assembler.Add(Span($"tr-{2:x32}", "0000000000000001", null), isRoot: true)!.Spans, Has.Count.EqualTo(2));
    }

    [Test]
    public void SpansPerTrace_AreBounded()
    {
        var assembler = new TraceAssembler(10, 3, NullLogger.Instance);
        for (var i = 2; i < 7; i++)
        {
            assembler.Add(Span(TraceA, $"{i:x16}", "0000000000000001"), isRoot: false);
        }

        var trace = assembler.Add(Span(TraceA, "0000000000000001", null), isRoot: true);

        Assert.That(trace!.Spans, Has.Count.EqualTo(4), "the root and the first three children");
        Assert.That(assembler.DroppedSpans, Is.EqualTo(2));
    }

    [Test]
    public void TokenUsage_SumsSpansWhoseAncestorsReportNone()
    {
        var spans = new List<TraceSpan>
        {
            Span(TraceA, "0000000000000001", null),
            Span(TraceA, "0000000000000002", "0000000000000001", usage: Usage(10, 2)),
            Span(TraceA, "0000000000000003", "0000000000000002", usage: Usage(10, 2)), // counted by its parent already
            Span(TraceA, "0000000000000004", "0000000000000001", usage: Usage(5, 1)),
        };

        Assert.That(TokenUsageAggregation.Aggregate(spans), Is.EqualTo("""{"input_tokens": 15, "output_tokens": 3, "total_tokens": 18}"""), "json.dumps of MLflow's aggregate");
        Assert.That(TokenUsageAggregation.Aggregate([Span(TraceA, "0000000000000001", null)]), Is.Null);
    }

    [Test]
    public void BuildInfo_NamesTheExperimentRunUserAndTokenUsage()
    {
        var trace = new CompletedTrace(TraceA, [Span(TraceA, "0000000000000001", null, usage: Usage(3, 4))]);

        var info = TracePipeline.BuildInfo(trace, "7", "0123456789abcdef0123456789abcdef", "alice");

        Assert.That(info.TraceId, Is.EqualTo(TraceA));
        Assert.That(info.ExperimentId, Is.EqualTo("7"));
        Assert.That(info.SourceRunId, Is.EqualTo("0123456789abcdef0123456789abcdef"));
        Assert.That(info.Metadata["mlflow.user"], Is.EqualTo("alice"));
        Assert.That(info.Metadata["mlflow.source.type"], Is.EqualTo("LOCAL"));
        Assert.That(info.Metadata["mlflow.trace.tokenUsage"], Is.EqualTo("""{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}"""));
        Assert.That(TracePipeline.BuildInfo(trace, "7", null, "alice").Metadata.ContainsKey("mlflow.sourceRun"), Is.False);
    }

    [Test]
    public void TraceRoot_IsAnActivityWithoutACapturedParentInThisProcess()
    {
        using var source = new ActivitySource("Mlflow.Client.Tests.Roots");
        using var recorder = new ActivityRecorder(source.Name);
        using (var root = source.StartActivity("root"))
        using (var child = source.StartActivity("child"))
        {
            Assert.That(TracePipeline.IsTraceRoot(root!, _ => true), Is.True);
            Assert.That(TracePipeline.IsTraceRoot(child!, _ => true), Is.False);
            Assert.That(TracePipeline.IsTraceRoot(child!, _ => false), Is.True, "a parent that is not captured leaves the child the root");
        }

        var remote = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        using var fromRemote = source.StartActivity("server", ActivityKind.Server, remote);
        Assert.That(TracePipeline.IsTraceRoot(fromRemote!, _ => true), Is.True, "the local root of a distributed trace");
    }
}
