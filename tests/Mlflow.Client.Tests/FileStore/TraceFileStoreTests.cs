using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// Traces and assessments in the local store, against what MLflow 3.11.1's own file store wrote
/// (<c>tests/Fixtures/filestore-mlflow3-traces</c>, recorded by its <c>record.py</c>): the files are rewritten byte for
/// byte, the store writes the same layout (ids and Python-only metadata aside), reads MLflow's folder, and keeps every id
/// inside its root.
/// </summary>
internal sealed partial class TraceFileStoreTests : FileStoreTestBase
{
    internal const string FixtureExperiment = "689207980379091409";
    internal const string FixtureRun = "13a2cff3bf88450d8cb9999d8c0d8d50";
    internal const string FixtureOkTrace = "tr-df095310565188dbd60c49b3cef7084e";
    internal const string FixtureFailedTrace = "tr-de65ae8b7e5a36484d4fb6dbb72c7364";

    /// <summary>Metadata MLflow's Python tracing adds from its process (user, script, git), which a store does not make.</summary>
    private static readonly string[] PythonContextMetadata =
    [
        "mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.source.git.branch", "mlflow.source.git.commit",
        "mlflow.source.git.repoURL", "mlflow.trace.sizeBytes", "mlflow.trace.sizeStats",
    ];

    internal static string FixtureStore => Path.Combine(RepoPaths.FixturesDir, "filestore-mlflow3-traces", "mlruns");

    private static string FixtureTraces => Path.Combine(FixtureStore, FixtureExperiment, "traces");

    [Test]
    public void Mlflow_written_trace_info_and_assessment_files_are_written_back_byte_for_byte()
    {
        var files = Directory.EnumerateFiles(FixtureTraces, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.That(files, Has.Count.EqualTo(12), "two trace_info.yaml and ten assessments in the fixture");
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            var written = Path.GetFileName(file) == TraceFiles.TraceInfoFile
                ? TraceFiles.WriteTraceInfo(TraceFiles.ReadTraceInfo(text))
                : TraceFiles.WriteAssessment(TraceFiles.ReadAssessment(text));
            Assert.That(written, Is.EqualTo(text), file);
        }
    }

    [Test]
    public void Mlflow_written_assessments_read_with_their_values_errors_and_overrides()
    {
        var byName = Directory.EnumerateFiles(Path.Combine(FixtureTraces, FixtureOkTrace, "assessments"))
            .Select(f => TraceFiles.ReadAssessment(File.ReadAllText(f))).ToList();
        var overridden = byName.Single(a => a.Name == "correctness" && a.Valid == false);
        Assert.That(overridden.Rationale, Is.EqualTo("First opinion."));
        var overriding = byName.Single(a => a.Overrides == overridden.AssessmentId);
        Assert.That(overriding.Source, Is.EqualTo(AssessmentSource.Human("reviewer")));
        Assert.That(byName.Single(a => a.Name == "score").Feedback!.Value!.GetValue<double>(), Is.EqualTo(0.75));
        Assert.That(byName.Single(a => a.Name == "exact").Feedback!.Value!.GetValue<bool>(), Is.True);
        Assert.That(byName.Single(a => a.Name == "exact").SpanId, Is.EqualTo("5e2968a7f12dcdb8"));
        Assert.That(byName.Single(a => a.Name == "details").Feedback!.Value!.ToJsonString(), Is.EqualTo("""{"docs":["doc1",null],"hits":2}"""));
        var safety = byName.Single(a => a.Name == "safety").Feedback!;
        Assert.That((safety.Value, safety.Error), Is.EqualTo(((JsonNode?)null, new AssessmentError("RateLimit", "429 from the judge"))));
        Assert.That(byName.Single(a => a.Name == "expected_facts").Expectation!.Value!.ToJsonString(), Is.EqualTo("""["Paris","France"]"""));
        Assert.That(byName.Single(a => a.Name == "correctness" && a.Metadata.Count > 0).RunId, Is.EqualTo(FixtureRun));
    }

    [Test]
    public async Task Store_writes_the_folders_and_files_MLflow_writes()
    {
        var (experimentId, runId) = await CreateRunAsync();
        var logged = await Store.LogTraceAsync(SampleTrace(experimentId, runId), SampleSpans(), None);
        await LogSampleAssessmentsAsync(Store, logged.TraceId, runId);

        var ours = LayoutOf(Path.Combine(Root, experimentId, "traces"));
        var theirs = LayoutOf(FixtureTraces).Where(p => !PythonContextMetadata.Any(m => p.EndsWith("/" + m, StringComparison.Ordinal))).ToHashSet();
        theirs.RemoveWhere(p => p.StartsWith("<failed>", StringComparison.Ordinal));
        Assert.That(ours, Is.EquivalentTo(theirs));

        var traceDir = Path.Combine(Root, experimentId, "traces", logged.TraceId);
        Assert.That(KeysOf(Path.Combine(traceDir, "trace_info.yaml")), Is.EqualTo(KeysOf(Path.Combine(FixtureTraces, FixtureOkTrace, "trace_info.yaml"))));
        Assert.That(File.ReadAllText(Path.Combine(traceDir, "tags", "mlflow.artifactLocation")),
            Is.EqualTo((await Store.GetExperimentAsync(experimentId, None)).ArtifactLocation + "/traces/" + logged.TraceId + "/artifacts"));
        Assert.That(File.ReadAllText(Path.Combine(traceDir, "request_metadata", "mlflow.sourceRun")), Is.EqualTo(runId));
        var theirAssessments = Directory.EnumerateFiles(Path.Combine(FixtureTraces, FixtureOkTrace, "assessments")).Select(f => (Name: Name(f), Keys: KeysOf(f))).ToList();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(traceDir, "assessments")))
        {
            var name = Name(file);
            Assert.That(theirAssessments.Where(t => t.Name == name).Select(t => t.Keys), Has.Some.EqualTo(KeysOf(file)), name);
        }

        Assert.That(EntriesOutsideRoot(), Is.Empty);
        Assert.That(Directory.EnumerateFiles(traceDir, ".tmp-*", SearchOption.AllDirectories), Is.Empty);

        static string Name(string file) => (string)MiniYaml.ReadDocument(File.ReadAllText(file))["assessment_name"]!;
    }

    [Test]
    public async Task A_trace_reads_back_with_its_spans_metadata_tags_and_assessments()
    {
        var (experimentId, runId) = await CreateRunAsync();
        var spans = SampleSpans();
        var logged = await Store.LogTraceAsync(SampleTrace(experimentId, runId), spans, None);
        var created = await LogSampleAssessmentsAsync(Store, logged.TraceId, runId);

        var trace = await Store.GetTraceAsync(logged.TraceId, None);
        Assert.That(TraceDataJson.Serialize(trace.Info.TraceId, trace.Spans), Is.EqualTo(TraceDataJson.Serialize(logged.TraceId, spans)));
        Assert.That(trace.Spans.Select(s => s.SpanType), Is.EqualTo(new[] { SpanType.Chain, SpanType.Retriever, SpanType.ChatModel }));
        Assert.That(trace.Info with { Assessments = [] }, Is.EqualTo(logged with { Assessments = [] }).Using<TraceInfo>(SameInfo));
        Assert.That(trace.Info.State, Is.EqualTo(TraceState.Ok));
        Assert.That(trace.Info.ExecutionDurationMs, Is.EqualTo(1200));
        Assert.That(trace.Info.RequestPreview, Is.EqualTo("""{"question": "Capital of France?"}"""));
        Assert.That(trace.Info.SourceRunId, Is.EqualTo(runId));
        Assert.That(trace.Info.Tags[TraceKeys.TraceNameTag], Is.EqualTo("answer"));
        Assert.That(trace.Info.Assessments.Select(a => a.AssessmentId), Is.EquivalentTo(created.Select(a => a.AssessmentId)));
        var first = trace.Info.Assessments.Single(a => a.AssessmentId == created[0].AssessmentId);
        Assert.That(first.Valid, Is.False, "overridden by a later assessment");
        Assert.That(trace.Info.Assessments.Single(a => a.Overrides == created[0].AssessmentId).Valid, Is.True);
        Assert.That(trace.Info.Assessments.Single(a => a.Name == "details").Feedback!.Value!.ToJsonString(), Is.EqualTo("""{"docs":["doc1",null],"hits":2}"""));
        Assert.That(trace.Info.Assessments.Single(a => a.Name == "safety").Feedback!.Error!.ErrorCode, Is.EqualTo("RateLimit"));
        Assert.That(trace.Info.Assessments.Single(a => a.Name == "expected_facts").Expectation!.Value!.ToJsonString(), Is.EqualTo("""["Paris","France"]"""));
        Assert.That(trace.Info.Assessments.Single(a => a.Name == "correctness" && a.Valid == true && a.Overrides is null).RunId, Is.EqualTo(runId));

        Assert.That(Store.ListRunTraceIds(runId), Is.EqualTo(new[] { logged.TraceId }));
        var other = await Store.CreateRunAsync(experimentId, "other", 1, null, "me", None);
        Assert.That(Store.ListRunTraceIds(other.Info.RunId), Is.Empty);
        Assert.That(Store.ListTraces(experimentId).Select(t => t.TraceId), Is.EqualTo(new[] { logged.TraceId }));
    }

    [Test]
    public async Task A_trace_id_is_stored_once_and_nothing_is_written_for_a_missing_experiment_or_trace()
    {
        var (experimentId, runId) = await CreateRunAsync();
        var info = SampleTrace(experimentId, runId);
        await Store.LogTraceAsync(info, SampleSpans(), None);
        var again = Assert.ThrowsAsync<MlflowException>(() => Store.LogTraceAsync(info, SampleSpans(), None));
        Assert.That(again!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceAlreadyExists));

        var otherExperiment = await Store.CreateExperimentAsync("other", null, null, None);
        var elsewhere = Assert.ThrowsAsync<MlflowException>(() => Store.LogTraceAsync(info with { ExperimentId = otherExperiment }, SampleSpans(), None));
        Assert.That(elsewhere!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceAlreadyExists), "a trace id names one trace in the whole store");

        var missing = Assert.ThrowsAsync<MlflowException>(() => Store.LogTraceAsync(info with { TraceId = TraceIds.NewTraceId(), ExperimentId = "424242" }, SampleSpans(), None));
        Assert.That(missing!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(Directory.Exists(Path.Combine(Root, "424242")), Is.False);

        var unknownTrace = Assert.ThrowsAsync<MlflowException>(() => Store.CreateAssessmentAsync(
            Assessment.CreateFeedback(TraceIds.NewTraceId(), "x", JsonValue.Create(1), AssessmentSource.Code("c")), None));
        Assert.That(unknownTrace!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That((await Store.GetTraceAsync(info.TraceId, None)).Info.Assessments, Is.Empty);
    }

    [TestCase("../escape")]
    [TestCase("..")]
    [TestCase("tr-x/../../y")]
    [TestCase("con")]
    [TestCase("tr-a\\b")]
    [TestCase(".hidden")]
    public async Task An_id_that_would_leave_the_root_or_is_no_plain_file_name_is_refused(string id)
    {
        var (experimentId, runId) = await CreateRunAsync();
        var logged = await Store.LogTraceAsync(SampleTrace(experimentId, runId), SampleSpans(), None);

        Assert.That(() => Store.GetTraceAsync(id, None), Throws.InstanceOf<MlflowValidationException>());
        Assert.That(() => Store.CreateAssessmentAsync(Assessment.CreateFeedback(id, "x", JsonValue.Create(1), AssessmentSource.Code("c")), None), Throws.InstanceOf<MlflowValidationException>());
        var overriding = Assessment.CreateFeedback(logged.TraceId, "x", JsonValue.Create(1), AssessmentSource.Code("c")) with { Overrides = id };
        Assert.That(() => Store.CreateAssessmentAsync(overriding, None), Throws.InstanceOf<MlflowValidationException>());
        Assert.That(() => Store.LogTraceAsync(SampleTrace(experimentId, runId) with { TraceId = id }, SampleSpans(), None), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => Store.LogTraceAsync(SampleTrace(experimentId, runId) with { TraceId = TraceIds.NewTraceId(), Tags = new Dictionary<string, string> { ["../../t"] = "v" } }, SampleSpans(), None),
            Throws.InstanceOf<MlflowValidationException>());
        Assert.That(EntriesOutsideRoot(), Is.Empty);
    }

    [Test]
    public async Task The_store_reads_a_folder_MLflow_wrote_even_after_it_was_moved()
    {
        // The fixture's artifact location tags name the folder it was recorded in: the store falls back to the trace's own folder.
        CopyDirectory(FixtureStore, Root);
        using var store = new LocalFileStore(Root);

        var trace = await store.GetTraceAsync(FixtureOkTrace, None);
        Assert.That(trace.Spans.Select(s => (s.Name, s.SpanType)), Is.EqualTo(new[] { ("answer", SpanType.Chain), ("retrieve", SpanType.Retriever), ("chat", SpanType.ChatModel) }));
        Assert.That(trace.Info.SourceRunId, Is.EqualTo(FixtureRun));
        Assert.That(trace.Info.ExecutionDurationMs, Is.EqualTo(160));
        Assert.That(trace.Info.Assessments, Has.Count.EqualTo(9));
        var failed = await store.GetTraceAsync(FixtureFailedTrace, None);
        Assert.That(failed.Info.State, Is.EqualTo(TraceState.Error));
        Assert.That(failed.Spans.Single().Events.Single().Name, Is.EqualTo("exception"));
        Assert.That(store.ListRunTraceIds(FixtureRun), Is.EqualTo(new[] { FixtureFailedTrace, FixtureOkTrace }));
        Assert.That(store.ListTraces(FixtureExperiment).Select(t => t.TraceId), Is.EqualTo(new[] { FixtureFailedTrace, FixtureOkTrace }), "newest first");
    }

    // ------------------------------------------------------------------ helpers

    internal static TraceInfo SampleTrace(string experimentId, string runId) => new()
    {
        TraceId = TraceIds.NewTraceId(),
        ExperimentId = experimentId,
        Metadata = new Dictionary<string, string> { [TraceKeys.SourceRunMetadata] = runId },
    };

    internal static IReadOnlyList<TraceSpan> SampleSpans()
    {
        const long start = 1_765_000_000_000_000_000;
        var root = TraceIds.NewSpanId();
        return
        [
            new TraceSpan
            {
                SpanId = root, Name = "answer", SpanType = SpanType.Chain, StartTimeUnixNano = start, EndTimeUnixNano = start + 1_200_000_000,
                Status = TraceSpanStatus.Ok, Inputs = new JsonObject { ["question"] = "Capital of France?" }, Outputs = JsonValue.Create("Paris"),
            },
            new TraceSpan
            {
                SpanId = TraceIds.NewSpanId(), ParentSpanId = root, Name = "retrieve", SpanType = SpanType.Retriever, StartTimeUnixNano = start + 1_000,
                EndTimeUnixNano = start + 2_000, Status = TraceSpanStatus.Ok, Inputs = new JsonObject { ["query"] = "Capital of France?" },
                Outputs = new JsonArray(new JsonObject { ["page_content"] = "Paris is the capital of France.", ["metadata"] = new JsonObject { ["doc_uri"] = "doc1" } }),
            },
            new TraceSpan
            {
                SpanId = TraceIds.NewSpanId(), ParentSpanId = root, Name = "chat", SpanType = SpanType.ChatModel, StartTimeUnixNano = start + 3_000,
                EndTimeUnixNano = start + 1_100_000_000, Status = TraceSpanStatus.Ok,
                Inputs = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Capital of France?" }) },
                Outputs = new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "Paris" } }) },
                Attributes = new Dictionary<string, JsonNode?> { ["gen_ai.request.model"] = "stand-in" },
            },
        ];
    }

    /// <summary>The kinds of assessment the fixture holds; the first is overridden by the third.</summary>
    internal static async Task<List<Assessment>> LogSampleAssessmentsAsync(LocalFileStore store, string traceId, string runId)
    {
        var judge = AssessmentSource.LlmJudge("openai:/gpt-4o-mini");
        var code = AssessmentSource.Code("exact_match");
        var spanId = (await store.GetTraceAsync(traceId, None)).Spans.Single(s => s.Name == "chat").SpanId;
        var created = new List<Assessment>();
        async Task Add(Assessment a) => created.Add(await store.CreateAssessmentAsync(a, None));
        await Add(Assessment.CreateFeedback(traceId, "correctness", "no", judge, "First opinion."));
        await Add(Assessment.CreateFeedback(traceId, "correctness", "yes", judge, "It says Paris.", runId: runId));
        await Add(Assessment.CreateFeedback(traceId, "correctness", "yes", AssessmentSource.Human("reviewer"), "Overridden.") with { Overrides = created[0].AssessmentId });
        await Add(Assessment.CreateFeedback(traceId, "score", 0.75, code));
        await Add(Assessment.CreateFeedback(traceId, "exact", true, code, spanId: spanId));
        await Add(Assessment.CreateFeedback(traceId, "details", new JsonObject { ["hits"] = 2, ["docs"] = new JsonArray("doc1", null) }, code));
        await Add(new Assessment { TraceId = traceId, Name = "safety", Source = judge, Feedback = new AssessmentFeedback(null, new AssessmentError("RateLimit", "429 from the judge")) });
        await Add(Assessment.CreateExpectation(traceId, "expected_response", "Paris"));
        await Add(Assessment.CreateExpectation(traceId, "expected_facts", new JsonArray("Paris", "France")));
        return created;
    }

    private async Task<(string ExperimentId, string RunId)> CreateRunAsync()
    {
        var experimentId = await Store.CreateExperimentAsync("traces", null, null, None);
        var run = await Store.CreateRunAsync(experimentId, "evaluation", 1_765_000_000_000, null, "me", None);
        return (experimentId, run.Info.RunId);
    }

    /// <summary>Relative paths under a traces folder, the trace ids as &lt;ok&gt;/&lt;failed&gt; (by state), assessment ids as &lt;a&gt;.</summary>
    private static HashSet<string> LayoutOf(string tracesDir)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var traceDir in Directory.EnumerateDirectories(tracesDir))
        {
            var state = (string)MiniYaml.ReadDocument(File.ReadAllText(Path.Combine(traceDir, "trace_info.yaml")))["state"]!;
            var label = state == "OK" ? "<ok>" : "<failed>";
            foreach (var file in Directory.EnumerateFiles(traceDir, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(traceDir, file).Replace(Path.DirectorySeparatorChar, '/');
                result.Add(label + "/" + AssessmentFile().Replace(relative, "<a>.yaml"));
            }
        }

        return result;
    }

    /// <summary>The key paths of a YAML document (a.b.c), the shape of a file without its values.</summary>
    private static List<string> KeysOf(string file)
    {
        var keys = new List<string>();
        Walk(MiniYaml.ReadDocument(File.ReadAllText(file)), "");
        keys.Sort(StringComparer.Ordinal);
        return keys;

        void Walk(Dictionary<string, object?> map, string prefix)
        {
            foreach (var (key, value) in map)
            {
                keys.Add(prefix + key);
                if (value is Dictionary<string, object?> inner && key != "value" && key != "metadata")
                {
                    Walk(inner, prefix + key + ".");
                }
            }
        }
    }

    private static bool SameInfo(TraceInfo a, TraceInfo b)
        => a.TraceId == b.TraceId && a.ExperimentId == b.ExperimentId && a.RequestTimeMs == b.RequestTimeMs && a.ExecutionDurationMs == b.ExecutionDurationMs
           && a.State == b.State && a.RequestPreview == b.RequestPreview && a.ResponsePreview == b.ResponsePreview && a.ClientRequestId == b.ClientRequestId
           && a.Metadata.OrderBy(kv => kv.Key).SequenceEqual(b.Metadata.OrderBy(kv => kv.Key)) && a.Tags.OrderBy(kv => kv.Key).SequenceEqual(b.Tags.OrderBy(kv => kv.Key));

    internal static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    [GeneratedRegex("a-[0-9a-f]{32}\\.yaml$")]
    private static partial Regex AssessmentFile();
}
