using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Rest;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.Logging;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// Replays every recorded registry, artifact-proxy, get-artifact, health and version exchange (sqlite and file backends):
/// the client must send what the recording sent and read what the server answered.
/// </summary>
[TestFixture]
public class RegistryArtifactsContractTests
{
    private const string ProxyPrefix = "/api/2.0/mlflow-artifacts/artifacts";

    /// <summary>Endpoint prefix of the case name → the client call that produces the recorded request.</summary>
    private static readonly Dictionary<string, Func<MlflowClient, RestFixture, Task<object?>>> Calls = new(StringComparer.Ordinal)
    {
        ["registered-models-create"] = async (c, f) => await c.CreateRegisteredModelAsync(f.Arg("name")!, f.Arg("description"), Tags(f)),
        ["registered-models-get"] = async (c, f) => await c.GetRegisteredModelAsync(f.Arg("name")!),
        ["registered-models-search"] = async (c, f) => await c.SearchRegisteredModelsAsync(new RegisteredModelSearchOptions { Filter = f.Arg("filter"), MaxResults = IntArg(f, "max_results") }, f.Arg("page_token")),
        ["registered-models-rename"] = async (c, f) => await c.RenameRegisteredModelAsync(f.Arg("name")!, f.Arg("new_name")!),
        ["registered-models-update"] = async (c, f) => await c.UpdateRegisteredModelAsync(f.Arg("name")!, f.Arg("description")),
        ["registered-models-delete"] = async (c, f) => { await c.DeleteRegisteredModelAsync(f.Arg("name")!); return null; },
        ["registered-models-set-tag"] = async (c, f) => { await c.SetRegisteredModelTagAsync(f.Arg("name")!, f.Arg("key")!, f.Arg("value")!); return null; },
        ["registered-models-alias-set"] = async (c, f) => { await c.SetRegisteredModelAliasAsync(f.Arg("name")!, f.Arg("alias")!, f.Arg("version")!); return null; },
        ["registered-models-alias-delete"] = async (c, f) => { await c.DeleteRegisteredModelAliasAsync(f.Arg("name")!, f.Arg("alias")!); return null; },
        ["registered-models-alias-get"] = async (c, f) => await c.GetModelVersionByAliasAsync(f.Arg("name")!, f.Arg("alias")!),
        ["registered-models-get-latest-versions"] = async (c, f) => await c.GetLatestModelVersionsAsync(f.Arg("name")!, f.RequestJson?["stages"]?.AsArray().Select(s => s!.GetValue<string>())),
        ["model-versions-create"] = async (c, f) => await c.CreateModelVersionAsync(f.Arg("name")!, f.Arg("source")!, f.Arg("run_id"), f.Arg("description"), Tags(f), f.Arg("run_link")),
        ["model-versions-get"] = async (c, f) => await c.GetModelVersionAsync(f.Arg("name")!, f.Arg("version")!),
        ["model-versions-search"] = async (c, f) => await c.SearchModelVersionsAsync(new ModelVersionSearchOptions { Filter = f.Arg("filter"), MaxResults = IntArg(f, "max_results") }, f.Arg("page_token")),
        ["model-versions-update"] = async (c, f) => await c.UpdateModelVersionAsync(f.Arg("name")!, f.Arg("version")!, f.Arg("description")),
        ["model-versions-delete"] = async (c, f) => { await c.DeleteModelVersionAsync(f.Arg("name")!, f.Arg("version")!); return null; },
        ["model-versions-transition-stage"] = async (c, f) => await c.TransitionModelVersionStageAsync(f.Arg("name")!, f.Arg("version")!, f.Arg("stage")!, f.RequestJson?["archive_existing_versions"]?.GetValue<bool>() ?? false),
        ["model-versions-set-tag"] = async (c, f) => { await c.SetModelVersionTagAsync(f.Arg("name")!, f.Arg("version")!, f.Arg("key")!, f.Arg("value")!); return null; },
        ["model-versions-get-download-uri"] = async (c, f) => await c.GetModelVersionDownloadUriAsync(f.Arg("name")!, f.Arg("version")!),
        ["mlflow-artifacts-upload"] = async (c, f) =>
        {
            var (root, rel) = SplitProxyPath(f.Path[(ProxyPrefix.Length + 1)..]);
            using var body = new MemoryStream(Encoding.UTF8.GetBytes(f.RequestBodyText!));
            await c.UploadArtifactAsync(root, rel, body);
            return null;
        },
        ["mlflow-artifacts-download"] = async (c, f) =>
        {
            var (root, rel) = SplitProxyPath(f.Path[(ProxyPrefix.Length + 1)..]);
            await using var stream = await c.DownloadArtifactAsync(root, rel);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        },
        ["mlflow-artifacts-delete"] = async (c, f) =>
        {
            var (root, rel) = SplitProxyPath(f.Path[(ProxyPrefix.Length + 1)..]);
            await c.DeleteArtifactAsync(root, rel);
            return null;
        },
        ["mlflow-artifacts-list"] = async (c, f) =>
        {
            var (root, rel) = SplitProxyPath(f.Arg("path")!);
            return await c.ListProxiedArtifactsAsync(root, rel.Length == 0 ? null : rel);
        },
        ["get-artifact"] = async (c, f) =>
        {
            await using var stream = await c.DownloadRunArtifactAsync(f.Arg("run_id") ?? f.Arg("run_uuid")!, f.Arg("path")!);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        },
        ["server-health"] = async (c, _) => await c.GetHealthAsync(),
        ["server-version"] = async (c, _) => await c.GetServerVersionAsync(),
    };

    private static bool InScope(RestFixture f)
        => f.Path.StartsWith("/api/2.0/mlflow/registered-models/", StringComparison.Ordinal)
        || f.Path.StartsWith("/api/2.0/mlflow/model-versions/", StringComparison.Ordinal)
        || f.Path.StartsWith(ProxyPrefix, StringComparison.Ordinal)
        || f.Path is "/get-artifact" or "/health" or "/version";

    public static IEnumerable<TestCaseData> Cases()
        => new[] { "rest", "rest-file-backend" }
            .SelectMany(folder => RestFixture.All(folder).Where(InScope).Select(f => new TestCaseData(folder, f.Case).SetName($"Replay({folder}, {f.Case})")));

    [Test]
    public void EveryInScopeFixture_HasAClientCall()
    {
        var cases = Cases().ToList();
        Assert.That(cases, Has.Count.GreaterThanOrEqualTo(80), "both fixture folders hold about 44 in-scope cases each");
        var missing = new[] { "rest", "rest-file-backend" }
            .SelectMany(folder => RestFixture.All(folder).Where(InScope))
            .Select(f => Prefix(f.Case))
            .Where(p => !Calls.ContainsKey(p))
            .Distinct()
            .ToList();
        Assert.That(missing, Is.Empty);
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Replay(string folder, string caseName)
    {
        var fixture = RestFixture.Load(folder, caseName);
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();
        var call = Calls[Prefix(fixture.Case)];

        if (fixture.Case == "mlflow-artifacts-upload.path-traversal")
        {
            // The server answers 400 "Invalid path"; this client refuses before sending anything.
            Assert.ThrowsAsync<MlflowValidationException>(() => call(client, fixture));
            Assert.That(server.Requests, Is.Empty);
            return;
        }

        object? result = null;
        MlflowException? error = null;
        try
        {
            result = await call(client, fixture);
        }
        catch (MlflowException ex)
        {
            error = ex;
        }

        AssertSentAsRecorded(server.SingleRequest(), fixture);

        if (fixture.Status is >= 200 and < 300)
        {
            Assert.That(error, Is.Null, () => error!.Message);
            AssertParsedAsRecorded(result, fixture);
        }
        else
        {
            Assert.That(error, Is.Not.Null, "an error answer must throw MlflowException");
            Assert.That((int?)error!.StatusCode, Is.EqualTo(fixture.Status));
            Assert.That(error.Method, Is.EqualTo(fixture.Method));
            Assert.That(error.Path, Is.EqualTo(fixture.Path));
            if (fixture.ResponseJson?["error_code"]?.GetValue<string>() is { } code)
            {
                Assert.That(error.RawErrorCode, Is.EqualTo(code));
                Assert.That(error.ErrorCode, Is.EqualTo(MlflowException.ParseErrorCode(code)).And.Not.EqualTo(MlflowErrorCode.Unknown));
                Assert.That(error.ServerMessage, Is.EqualTo(fixture.ResponseJson!["message"]!.GetValue<string>()));
            }
            else
            {
                // HTML error page: no code, a tag-free excerpt of the page.
                Assert.That(error.RawErrorCode, Is.Null);
                Assert.That(error.ErrorCode, Is.EqualTo(MlflowErrorCode.Unknown));
                Assert.That(error.ServerMessage, Does.Contain("Internal Server Error").And.Not.Contain("<"));
            }
        }
    }

    private static void AssertSentAsRecorded(ILogEntry sent, RestFixture fixture)
    {
        var message = sent.RequestMessage;
        Assert.That(message.Method, Is.EqualTo(fixture.Method));
        Assert.That(message.Path, Is.EqualTo(fixture.Path));
        var query = ParseQuery(message.RawQuery);
        var expectedQuery = fixture.Query.ToDictionary(kv => kv.Key == "run_uuid" ? "run_id" : kv.Key, kv => kv.Value); // get-artifact: we send run_id
        Assert.That(query, Is.EquivalentTo(expectedQuery.Select(kv => new KeyValuePair<string, List<string>>(kv.Key, kv.Value.ToList()))).Using<KeyValuePair<string, List<string>>>((a, b) => a.Key == b.Key && a.Value.SequenceEqual(b.Value)),
            "query: " + message.RawQuery);
        if (fixture.RequestJson is not null)
        {
            Assert.That(message.Headers!["Content-Type"].Single(), Does.StartWith("application/json"));
            Assert.That(JsonNode.DeepEquals(FixtureServer.BodyJson(sent), fixture.RequestJson), Is.True, message.Body);
        }
        else if (fixture.RequestBodyText is not null)
        {
            var bytes = message.BodyAsBytes ?? Encoding.UTF8.GetBytes(message.Body ?? "");
            Assert.That(bytes, Is.EqualTo(Encoding.UTF8.GetBytes(fixture.RequestBodyText)));
        }
        else
        {
            Assert.That(message.BodyAsBytes ?? [], Is.Empty, "no body expected");
        }
    }

    private static void AssertParsedAsRecorded(object? result, RestFixture fixture)
    {
        var json = fixture.ResponseJson;
        switch (result)
        {
            case null:
                Assert.That(json is null || JsonNode.DeepEquals(json, new JsonObject()), Is.True, "void call, recorded answer {}");
                break;
            case RegisteredModel model:
                AssertSubset(json!["registered_model"], model);
                Assert.That(model.Name, Is.EqualTo(json["registered_model"]!["name"]!.GetValue<string>()));
                break;
            case ModelVersion version:
                AssertSubset(json!["model_version"], version);
                Assert.That(version.Version, Is.EqualTo(json["model_version"]!["version"]!.GetValue<string>()));
                break;
            case Page<RegisteredModel> page:
                AssertSubsetList(json!["registered_models"], page.Items);
                Assert.That(page.NextPageToken, Is.EqualTo(json["next_page_token"]?.GetValue<string>()));
                break;
            case Page<ModelVersion> page:
                AssertSubsetList(json!["model_versions"], page.Items);
                Assert.That(page.NextPageToken, Is.EqualTo(json["next_page_token"]?.GetValue<string>()));
                break;
            case IReadOnlyList<ModelVersion> versions:
                AssertSubsetList(json!["model_versions"], versions);
                break;
            case IReadOnlyList<ArtifactFileInfo> files:
                var (_, rel) = SplitProxyPath(fixture.Arg("path")!);
                var recorded = json?["files"]?.AsArray() ?? [];
                Assert.That(files, Has.Count.EqualTo(recorded.Count));
                for (var i = 0; i < files.Count; i++)
                {
                    var r = recorded[i]!;
                    Assert.That(files[i].Path, Is.EqualTo((rel.Length == 0 ? "" : rel + "/") + r["path"]!.GetValue<string>()), "paths are relative to the artifact root");
                    Assert.That(files[i].IsDir, Is.EqualTo(r["is_dir"]?.GetValue<bool>() ?? false));
                    Assert.That(files[i].FileSize, Is.EqualTo(r["file_size"]?.GetValue<long>()));
                }

                break;
            case byte[] bytes:
                Assert.That(bytes, Is.EqualTo(Encoding.UTF8.GetBytes(fixture.ResponseBodyText!)));
                break;
            case string text when fixture.Case.StartsWith("server-", StringComparison.Ordinal):
                Assert.That(text, Is.EqualTo(fixture.ResponseBodyText!.Trim()));
                break;
            case string uri:
                Assert.That(uri, Is.EqualTo(json!["artifact_uri"]!.GetValue<string>()));
                break;
            default:
                Assert.Fail("unexpected result type " + result.GetType());
                break;
        }
    }

    /// <summary>Every field of the recorded object must come back from the parsed model (written again in wire form).</summary>
    private static void AssertSubset<T>(JsonNode? recorded, T parsed)
    {
        Assert.That(recorded, Is.Not.Null);
        var written = JsonSerializer.SerializeToNode(parsed, MlflowJsonContext.WireOptions);
        AssertContains(recorded!, written, "$");
    }

    private static void AssertSubsetList<T>(JsonNode? recorded, IReadOnlyList<T> parsed)
    {
        var items = recorded?.AsArray() ?? [];
        Assert.That(parsed, Has.Count.EqualTo(items.Count));
        for (var i = 0; i < parsed.Count; i++)
        {
            AssertSubset(items[i], parsed[i]);
        }
    }

    private static void AssertContains(JsonNode expected, JsonNode? actual, string where)
    {
        switch (expected)
        {
            case JsonObject o:
                Assert.That(actual, Is.InstanceOf<JsonObject>(), where);
                foreach (var (key, value) in o)
                {
                    Assert.That(actual!.AsObject().ContainsKey(key), Is.True, $"{where}.{key} was not parsed");
                    AssertContains(value!, actual[key], $"{where}.{key}");
                }

                break;
            case JsonArray a:
                Assert.That(actual, Is.InstanceOf<JsonArray>(), where);
                Assert.That(actual!.AsArray(), Has.Count.EqualTo(a.Count), where);
                for (var i = 0; i < a.Count; i++)
                {
                    AssertContains(a[i]!, actual[i], $"{where}[{i}]");
                }

                break;
            default:
                Assert.That(JsonNode.DeepEquals(expected, actual), Is.True, $"{where}: expected {expected.ToJsonString()}, got {actual?.ToJsonString()}");
                break;
        }
    }

    private static string Prefix(string caseName) => caseName[..caseName.IndexOf('.', StringComparison.Ordinal)];

    private static List<Tag>? Tags(RestFixture f)
        => f.RequestJson?["tags"]?.AsArray().Select(t => new Tag(t!["key"]!.GetValue<string>(), t["value"]!.GetValue<string>())).ToList();

    private static int? IntArg(RestFixture f, string name) => f.Arg(name) is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary><c>&lt;exp&gt;/&lt;run&gt;/artifacts/rest</c> → the run's artifact URI and the path under it.</summary>
    internal static (string Root, string Relative) SplitProxyPath(string storePath)
    {
        var parts = storePath.Split('/');
        Assert.That(parts.Length, Is.GreaterThanOrEqualTo(3), storePath);
        return ("mlflow-artifacts:/" + string.Join('/', parts.Take(3)), string.Join('/', parts.Skip(3)));
    }

    internal static Dictionary<string, List<string>> ParseQuery(string? rawQuery)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(rawQuery))
        {
            return result;
        }

        foreach (var pair in rawQuery.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            if (!result.TryGetValue(key, out var list))
            {
                result[key] = list = [];
            }

            list.Add(value);
        }

        return result;
    }
}
