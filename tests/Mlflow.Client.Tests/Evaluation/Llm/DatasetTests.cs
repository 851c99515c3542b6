using System.Text.Json.Nodes;
using Mlflow.Client.Evaluation.Llm;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Rest;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Evaluation.Llm;

/// <summary>
/// Evaluation datasets: the REST calls against what MLflow 3.11.1's own Python client sent and its server answered
/// (<c>tests/Fixtures/rest-mlflow3-datasets</c>, recorded by <c>record.py</c> there), and datasets from files.
/// </summary>
[TestFixture]
public class DatasetTests
{
    private const string Folder = "rest-mlflow3-datasets";

    private static (FixtureServer Server, MlflowClient Client, RestFixture Fixture) Serve(string caseName) => FixtureServer.Serve(Folder, caseName);


    private static WireMock.Logging.ILogEntry Sent(FixtureServer server, RestFixture fixture)
    {
        var request = server.SingleRequest();
        Assert.That(request.RequestMessage.Method, Is.EqualTo(fixture.Method));
        Assert.That(request.RequestMessage.AbsolutePath, Is.EqualTo(fixture.Path));
        return request;
    }

    private static string DatasetId(RestFixture f) => f.Path.Split('/')[5];

    [Test]
    public async Task Create_sends_name_experiments_and_tags_as_JSON_text_and_reads_the_dataset()
    {
        var (server, client, f) = Serve("datasets-create.ok");
        using (server)
        using (client)
        {
            var created = await client.CreateEvaluationDatasetAsync("capitals", ["2"], new Dictionary<string, string> { ["stage"] = "dev", ["mlflow.user"] = "root" });

            var body = JsonNode.Parse(Sent(server, f).RequestMessage.Body!)!;
            Assert.That(body["name"]!.GetValue<string>(), Is.EqualTo("capitals"));
            Assert.That(body["experiment_ids"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "2" }));
            Assert.That(JsonNode.DeepEquals(JsonNode.Parse(body["tags"]!.GetValue<string>()), JsonNode.Parse(f.RequestJson!["tags"]!.GetValue<string>())), Is.True, "tags travel as JSON text, as Python sends them");
            Assert.That(created.DatasetId, Is.EqualTo(f.ResponseJson!["dataset"]!["dataset_id"]!.GetValue<string>()));
            Assert.That(created.Tags["stage"], Is.EqualTo("dev"));
            Assert.That(created.ExperimentIds, Is.EqualTo(new[] { "2" }));
            Assert.That(created.CreatedBy, Is.EqualTo("root"));
        }
    }

    [Test]
    public async Task Upsert_sends_the_records_as_JSON_text_with_the_sources_Python_infers()
    {
        var (server, client, f) = Serve("datasets-upsert-records.ok");
        using (server)
        using (client)
        {
            var root = new Dictionary<string, string> { ["mlflow.user"] = "root" };
            var result = await client.UpsertEvaluationDatasetRecordsAsync(DatasetId(f),
            [
                new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of France?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Paris", ["expected_facts"] = new JsonArray("Paris") }, Tags = root },
                new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of Italy?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Rome" }, Tags = new Dictionary<string, string> { ["difficulty"] = "easy", ["mlflow.user"] = "root" } },
                new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Say hello" }, Tags = root },
            ]);

            var sent = JsonNode.Parse(JsonNode.Parse(Sent(server, f).RequestMessage.Body!)!["records"]!.GetValue<string>());
            var python = JsonNode.Parse(f.RequestJson!["records"]!.GetValue<string>());
            Assert.That(JsonNode.DeepEquals(sent, python), Is.True, $"sent {sent!.ToJsonString()}\npython {python!.ToJsonString()}");
            Assert.That(result, Is.EqualTo(new DatasetUpsertResult(3, 0)));
        }
    }

    [Test]
    public async Task Records_are_read_back_with_ids_sources_expectations_and_tags()
    {
        var (server, client, f) = Serve("datasets-get-records.ok");
        using (server)
        using (client)
        {
            var records = new List<EvaluationRecord>();
            await foreach (var r in client.GetEvaluationDatasetRecordsAsync(DatasetId(f)))
            {
                records.Add(r);
            }

            Assert.That(Sent(server, f).RequestMessage.Query!["max_results"].Single(), Is.EqualTo("1000"));
            Assert.That(records, Has.Count.EqualTo(3));
            var france = records.Single(r => r.Inputs["question"]!.GetValue<string>() == "Capital of France?");
            Assert.That(france.RecordId, Does.StartWith("dr-"));
            Assert.That(france.DatasetId, Is.EqualTo(DatasetId(f)));
            Assert.That(france.Source!.Type, Is.EqualTo(DatasetRecordSourceType.Human));
            Assert.That(JsonNode.DeepEquals(france.Expectations["expected_facts"], new JsonArray("Paris")), Is.True);
            Assert.That(france.CreatedTimeMs, Is.GreaterThan(0));
            var hello = records.Single(r => r.Inputs["question"]!.GetValue<string>() == "Say hello");
            Assert.That(hello.Expectations, Is.Empty);
            Assert.That(hello.Source!.Type, Is.EqualTo(DatasetRecordSourceType.Code));
            Assert.That(records.Single(r => r.Tags.ContainsKey("difficulty")).Expectations["expected_response"]!.GetValue<string>(), Is.EqualTo("Roma"), "the update merged in");
        }
    }

    [Test]
    public async Task Get_search_and_delete_use_MLflows_paths()
    {
        var (get, getClient, g) = Serve("datasets-get.ok");
        using (get)
        using (getClient)
        {
            var info = await getClient.GetEvaluationDatasetAsync(DatasetId(g));
            Sent(get, g);
            Assert.That(info.Name, Is.EqualTo("capitals"));
            Assert.That(JsonNode.Parse(info.Profile!)!["num_records"]!.GetValue<int>(), Is.EqualTo(3));
            Assert.That(info.Digest, Is.EqualTo(g.ResponseJson!["dataset"]!["digest"]!.GetValue<string>()));
        }

        var (search, searchClient, s) = Serve("datasets-search.ok");
        using (search)
        using (searchClient)
        {
            var page = await searchClient.SearchEvaluationDatasetsAsync(["2"], new EvaluationDatasetSearchOptions { Filter = "name = 'capitals'", MaxResults = 10, OrderBy = ["created_time DESC"] });
            var body = JsonNode.Parse(Sent(search, s).RequestMessage.Body!);
            Mlflow3RunWireTests.AssertSameJson(body, s.RequestJson);
            Assert.That(page.Items.Single().Name, Is.EqualTo("capitals"));
            Assert.That(page.NextPageToken, Is.Null);
        }

        var (delete, deleteClient, d) = Serve("datasets-delete.ok");
        using (delete)
        using (deleteClient)
        {
            await deleteClient.DeleteEvaluationDatasetAsync(d.Path.Split('/')[^1]);
            Sent(delete, d);
        }
    }

    [Test]
    public async Task A_server_dataset_is_read_whole_for_an_evaluation()
    {
        using var server = FixtureServer.Start().Answer(RestFixture.Load(Folder, "datasets-get.ok")).Answer(RestFixture.Load(Folder, "datasets-get-records.ok"));
        using var client = server.CreateClient();
        var id = DatasetId(RestFixture.Load(Folder, "datasets-get.ok"));

        var dataset = await EvaluationDataset.FromServerAsync(client, id);

        Assert.That(dataset.Name, Is.EqualTo("capitals"));
        Assert.That(dataset.DatasetId, Is.EqualTo(id));
        Assert.That(dataset.Records, Has.Count.EqualTo(3));
        var input = dataset.ToRunInput();
        Assert.That(input.SourceType, Is.EqualTo("mlflow_evaluation_dataset"));
        Assert.That(JsonNode.Parse(input.Source)!["dataset_id"]!.GetValue<string>(), Is.EqualTo(id));
    }

    [Test]
    public void Datasets_read_from_JSON_lines_and_JSON_lists_alike_and_bad_lines_are_named()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var jsonl = Path.Combine(dir.Path, "qa.jsonl");
        File.WriteAllText(jsonl, """
            {"inputs": {"question": "Capital of France?"}, "expectations": {"expected_response": "Paris"}}

            {"inputs": {"question": "2+2?"}, "expectations": {"expected_facts": ["4"]}, "tags": {"topic": "math"}}
            """);
        var json = Path.Combine(dir.Path, "qa.json");
        File.WriteAllText(json, """[{"inputs": {"question": "Capital of France?"}, "expectations": {"expected_response": "Paris"}}, {"inputs": {"question": "2+2?"}, "expectations": {"expected_facts": ["4"]}, "tags": {"topic": "math"}}]""");
        var bad = Path.Combine(dir.Path, "bad.jsonl");
        File.WriteAllText(bad, "{\"inputs\": {\"q\": 1}}\n{\"expectations\": {}}\n");

        var lines = EvaluationDataset.FromFile(jsonl);
        var list = EvaluationDataset.FromFile(json, "qa");

        Assert.That(lines.Name, Is.EqualTo("qa"));
        Assert.That(lines.Records, Has.Count.EqualTo(2));
        Assert.That(lines.Records[1].Tags["topic"], Is.EqualTo("math"));
        Assert.That(lines.Digest, Is.EqualTo(list.Digest).And.Length.EqualTo(8), "the same records give the same digest");
        Assert.That(() => EvaluationDataset.FromFile(bad), Throws.InstanceOf<FormatException>().With.Message.Contains("line 2"));
        Assert.That(() => EvaluationDataset.FromRecords([]), Throws.ArgumentException);
    }
}
