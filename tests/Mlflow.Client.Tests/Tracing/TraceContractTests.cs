using System.Net;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Rest;
using Mlflow.Client.Tracing;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Tracing;

/// <summary>
/// The trace and assessment calls against what MLflow 3.11.1's own Python client sent and its server answered
/// (<c>tests/Fixtures/rest-mlflow3-traces</c>, recorded by <c>record.py</c> there): the same method, path and JSON body,
/// and the answer read into the typed model.
/// </summary>
[TestFixture]
public class TraceContractTests
{
    private const string Folder = "rest-mlflow3-traces";

    private static (FixtureServer Server, MlflowClient Client, RestFixture Fixture) Serve(string caseName) => FixtureServer.Serve(Folder, caseName);

    private static void AssertSent(FixtureServer server, RestFixture fixture, bool compareBody = true)
    {
        var request = server.SingleRequest().RequestMessage;
        Assert.That(request.Method, Is.EqualTo(fixture.Method));
        Assert.That(request.AbsolutePath, Is.EqualTo(fixture.Path));
        if (compareBody)
        {
            Mlflow3RunWireTests.AssertSameJson(string.IsNullOrEmpty(request.Body) ? null : JsonNode.Parse(request.Body), fixture.RequestJson);
        }
    }

    private static Dictionary<string, string> Map(JsonNode? node)
        => (node as JsonObject ?? []).ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.Ordinal);

    private static long Ms(JsonNode? timestamp) => ProtoJsonTime.MillisecondsFromTimestamp(timestamp!.GetValue<string>());

    [Test]
    public async Task StartTrace_SendsTheTraceInfoAsMlflowsExporterDoes_AndReadsTheArtifactLocation()
    {
        var (server, client, f) = Serve("traces-start.python");
        using (server)
        using (client)
        {
            var sent = f.RequestJson!["trace"]!["trace_info"]!;
            var info = new TraceInfo
            {
                TraceId = sent["trace_id"]!.GetValue<string>(),
                ExperimentId = sent["trace_location"]!["mlflow_experiment"]!["experiment_id"]!.GetValue<string>(),
                RequestTimeMs = Ms(sent["request_time"]),
                ExecutionDurationMs = ProtoJsonTime.MillisecondsFromDuration(sent["execution_duration"]!.GetValue<string>()),
                State = TraceState.Ok,
                Metadata = Map(sent["trace_metadata"]),
                Tags = Map(sent["tags"]),
                RequestPreview = sent["request_preview"]!.GetValue<string>(),
                ResponsePreview = sent["response_preview"]!.GetValue<string>(),
            };

            var logged = await client.StartTraceAsync(info);

            AssertSent(server, f);
            Assert.That(logged.TraceId, Is.EqualTo(info.TraceId));
            Assert.That(logged.ArtifactLocation, Is.EqualTo($"mlflow-artifacts:/{info.ExperimentId}/traces/{info.TraceId}/artifacts"));
            Assert.That(logged.ExecutionDurationMs, Is.EqualTo(223));
            Assert.That(logged.SourceRunId, Does.Match("^[0-9a-f]{32}$"));
            Assert.That(logged.Metadata, Is.EquivalentTo(info.Metadata));
        }
    }

    [Test]
    public async Task GetTraceInfo_ReadsStateTimesTagsAndEveryKindOfAssessment()
    {
        var (server, client, f) = Serve("traces-get-info.ok");
        using (server)
        using (client)
        {
            var traceId = f.Path.Split('/')[^1];
            var info = await client.GetTraceInfoAsync(traceId);

            AssertSent(server, f, compareBody: false);
            var recorded = f.ResponseJson!["trace"]!["trace_info"]!;
            Assert.That(info.TraceId, Is.EqualTo(traceId));
            Assert.That(info.State, Is.EqualTo(TraceState.Ok));
            Assert.That(info.RequestTimeMs, Is.EqualTo(Ms(recorded["request_time"])));
            Assert.That(info.Tags[TraceKeys.TraceNameTag], Is.EqualTo("answer"));
            Assert.That(info.Assessments.Select(a => a.Name), Is.EquivalentTo(new[] { "correctness", "relevance", "safety", "expected_response", "expected_facts" }));
            var facts = info.Assessments.Single(a => a.Name == "expected_facts");
            Assert.That(JsonNode.DeepEquals(facts.Expectation!.Value, new JsonArray("Paris", "France")), Is.True, "a JSON_FORMAT expectation reads back as its value");
            var safety = info.Assessments.Single(a => a.Name == "safety");
            Assert.That(safety.Feedback!.Value, Is.Null);
            Assert.That(safety.Feedback.Error!.ErrorCode, Is.EqualTo("ValueError"));
            var relevance = info.Assessments.Single(a => a.Name == "relevance");
            Assert.That(relevance.Feedback!.Value!.GetValue<double>(), Is.EqualTo(0.75));
            Assert.That(relevance.RunId, Does.Match("^[0-9a-f]{32}$"));
            Assert.That(relevance.Source, Is.EqualTo(AssessmentSource.Code("relevance_scorer")));
        }
    }

    [TestCase("assessments-create.feedback")]
    [TestCase("assessments-create.feedback-number")]
    [TestCase("assessments-create.feedback-error")]
    [TestCase("assessments-create.expectation")]
    [TestCase("assessments-create.expectation-list")]
    public async Task CreateAssessment_SendsTheBodyMlflowsClientSends(string caseName)
    {
        var (server, client, f) = Serve(caseName);
        using (server)
        using (client)
        {
            var a = f.RequestJson!["assessment"]!;
            var source = new AssessmentSource(TraceWireMapping.ParseSourceType(a["source"]!["source_type"]!.GetValue<string>()), a["source"]!["source_id"]!.GetValue<string>());
            var traceId = a["trace_id"]!.GetValue<string>();
            var name = a["assessment_name"]!.GetValue<string>();
            var metadata = Map(a["metadata"]);
            Assessment assessment = caseName switch
            {
                "assessments-create.feedback" => Assessment.CreateFeedback(traceId, name, true, source, rationale: "It names Paris."),
                "assessments-create.feedback-number" => Assessment.CreateFeedback(traceId, name, 0.75, source, runId: metadata[TraceKeys.AssessmentSourceRunMetadata]),
                "assessments-create.feedback-error" => new Assessment
                {
                    TraceId = traceId,
                    Name = name,
                    Source = source,
                    Feedback = new AssessmentFeedback(null, new AssessmentError("ValueError", "judge unavailable", a["feedback"]!["error"]!["stack_trace"]!.GetValue<string>())),
                },
                "assessments-create.expectation" => Assessment.CreateExpectation(traceId, name, "Paris"),
                _ => Assessment.CreateExpectation(traceId, name, new JsonArray("Paris", "France")),
            };
            assessment = assessment with { CreateTimeMs = Ms(a["create_time"]), LastUpdateTimeMs = Ms(a["last_update_time"]) };

            var created = await client.CreateAssessmentAsync(assessment);

            AssertSent(server, f);
            Assert.That(created.AssessmentId, Does.Match("^a-[0-9a-f]{32}$"));
            Assert.That(created.Name, Is.EqualTo(name));
            Assert.That(created.Source, Is.EqualTo(source));
            Assert.That(created.Valid, Is.True);
        }
    }

    [Test]
    public async Task CreateAssessment_WithoutTimes_StampsBothWithTheClientsClock()
    {
        var (server, client, f) = Serve("assessments-create.expectation");
        using (server)
        using (client)
        {
            client.Clock = new FixedClock(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123));
            await client.CreateAssessmentAsync(Assessment.CreateExpectation("tr-d54abb776d6dd622cd91fb009b8c4454", "expected_response", "Paris"));

            var body = FixtureServer.BodyJson(server.SingleRequest())!["assessment"]!;
            Assert.That(body["create_time"]!.GetValue<string>(), Is.EqualTo("2023-11-14T22:13:20.123Z"));
            Assert.That(body["last_update_time"]!.GetValue<string>(), Is.EqualTo("2023-11-14T22:13:20.123Z"));
        }
    }

    [Test]
    public async Task UpdateAssessment_SendsIdsChangedFieldsAndTheCamelCaseMask()
    {
        var (server, client, f) = Serve("assessments-update.feedback");
        using (server)
        using (client)
        {
            var parts = f.Path.Split('/');
            var updated = await client.UpdateAssessmentAsync(parts[5], parts[7], new AssessmentUpdate
            {
                Name = "correctness",
                Feedback = new AssessmentFeedback(false),
                Rationale = "Changed my mind.",
            });

            AssertSent(server, f);
            Assert.That(updated.Feedback!.Value!.GetValue<bool>(), Is.False);
            Assert.That(updated.Rationale, Is.EqualTo("Changed my mind."));
            Assert.That(updated.LastUpdateTimeMs, Is.GreaterThan(updated.CreateTimeMs!.Value));
        }
    }

    [Test]
    public void UpdateAssessment_ThatChangesNothing_IsRefusedBeforeSending()
    {
        using var server = FixtureServer.Start();
        using var client = server.CreateClient();
        Assert.ThrowsAsync<ArgumentException>(() => client.UpdateAssessmentAsync("tr-1", "a-1", new AssessmentUpdate()));
        Assert.ThrowsAsync<ArgumentException>(() => client.UpdateAssessmentAsync("tr-1", "a-1", new AssessmentUpdate { Feedback = new(true), Expectation = new("x") }));
        Assert.That(server.Requests, Is.Empty);
    }

    [Test]
    public async Task GetAndDeleteAssessment_UseTheV3AssessmentPath()
    {
        var (server, client, f) = Serve("assessments-get.ok");
        using (server)
        using (client)
        {
            var parts = f.Path.Split('/');
            var assessment = await client.GetAssessmentAsync(parts[5], parts[7]);
            AssertSent(server, f, compareBody: false);
            Assert.That(assessment.AssessmentId, Is.EqualTo(parts[7]));
            Assert.That(assessment.Source, Is.EqualTo(AssessmentSource.LlmJudge("openai:/gpt-4o-mini")));
        }

        (server, client, f) = Serve("assessments-delete.ok");
        using (server)
        using (client)
        {
            var parts = f.Path.Split('/');
            await client.DeleteAssessmentAsync(parts[5], parts[7]);
            AssertSent(server, f, compareBody: false);
        }
    }

    [Test]
    public async Task SearchTraces_SendsLocationsFilterOrderAndPageSize()
    {
        var (server, client, f) = Serve("traces-search.ok");
        using (server)
        using (client)
        {
            var experimentId = f.RequestJson!["locations"]![0]!["mlflow_experiment"]!["experiment_id"]!.GetValue<string>();
            var page = await client.SearchTracesAsync([experimentId], new TraceSearchOptions { Filter = "tags.mlflow.traceName = 'answer'", MaxResults = 10, OrderBy = ["timestamp_ms DESC"] });

            AssertSent(server, f);
            Assert.That(page.Items, Has.Count.EqualTo(f.ResponseJson!["traces"]!.AsArray().Count).And.Count.GreaterThan(0));
            Assert.That(page.Items.All(t => t.ExperimentId == experimentId), Is.True);
            Assert.That(page.NextPageToken, Is.Null);
        }
    }

    [Test]
    public async Task TagsLinkAndDelete_SendWhatMlflowsClientSends()
    {
        var (server, client, f) = Serve("traces-set-tag.ok");
        using (server)
        using (client)
        {
            await client.SetTraceTagAsync(f.Path.Split('/')[5], "reviewed", "yes");
            AssertSent(server, f);
        }

        (server, client, f) = Serve("traces-delete-tag.ok");
        using (server)
        using (client)
        {
            await client.DeleteTraceTagAsync(f.Path.Split('/')[5], "reviewed");
            AssertSent(server, f);
        }

        (server, client, f) = Serve("traces-link-to-run.ok");
        using (server)
        using (client)
        {
            await client.LinkTracesToRunAsync(f.Arg("run_id")!, [f.RequestJson!["trace_ids"]![0]!.GetValue<string>()]);
            AssertSent(server, f);
        }

        (server, client, f) = Serve("traces-delete.ok");
        using (server)
        using (client)
        {
            var deleted = await client.DeleteTracesAsync(f.Arg("experiment_id")!, [f.RequestJson!["request_ids"]![0]!.GetValue<string>()]);
            AssertSent(server, f);
            Assert.That(deleted, Is.EqualTo(1));
        }
    }

    [Test]
    public async Task OnAnMlflow2Server_TheMissingRouteIsExplained()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/3.0/mlflow/traces/search").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(404).WithHeader("Content-Type", "text/html").WithBody("<h1>Not Found</h1>"));
        server.Server.Given(Request.Create().WithPath("/version").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("2.12.2"));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.SearchTracesAsync(["0"]));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(ex.Message, Does.Contain("need an MLflow 3 tracking server").And.Contain("2.12.2"));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
