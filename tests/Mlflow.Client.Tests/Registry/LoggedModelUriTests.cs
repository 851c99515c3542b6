using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Registry;

/// <summary>
/// <c>models:/m-&lt;id&gt;</c> (an MLflow 3 logged model) beside <c>models:/name/version</c> and <c>models:/name@alias</c>:
/// parsed as MLflow 3.11.1's <c>_parse_model_uri</c> does, and downloaded from the logged model's <c>artifact_uri</c>
/// (answers recorded from 3.11.1 in <c>tests/Fixtures/rest-mlflow3</c>).
/// </summary>
[TestFixture]
public class LoggedModelUriTests
{
    private static IResponseBuilder Ok(string body) => Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body);

    [TestCase("models:/m-deb73e020c984ec884f7f99391c5772a", "m-deb73e020c984ec884f7f99391c5772a")]
    [TestCase("models:/any-id", "any-id")]
    public void OneSegmentWithoutAlias_IsALoggedModel(string uri, string id)
    {
        var parsed = ModelUri.Parse(uri);
        Assert.That(parsed.ModelId, Is.EqualTo(id));
        Assert.That(parsed.Name, Is.Empty);
        Assert.That(parsed.Version ?? parsed.Stage ?? parsed.Alias, Is.Null);
    }

    [TestCase("models:/clf/3", "clf", "3", null, null)]
    [TestCase("models:/clf@champion", "clf", null, null, "champion")]
    [TestCase("models:/clf/Production", "clf", null, "Production", null)]
    [TestCase("models:/clf/latest", "clf", null, null, null)]
    public void RegisteredModelUris_AreUnchanged(string uri, string name, string? version, string? stage, string? alias)
    {
        var parsed = ModelUri.Parse(uri);
        Assert.That(parsed, Is.EqualTo(new ModelUri(name, version, stage, alias)));
        Assert.That(parsed.ModelId, Is.Null);
    }

    [TestCase("models:/")]
    [TestCase("models:/a/b/c")]
    [TestCase("models:/clf@")]
    [TestCase("models:/clf/ ")]
    public void ImproperUris_StillFail_AndTheMessageNamesTheLoggedModelForm(string uri)
    {
        var ex = Assert.Throws<MlflowException>(() => ModelUri.Parse(uri));
        Assert.That(ex!.Message, Does.StartWith("Not a proper models:/ URI").And.Contain("models:/m-"));
    }

    [Test]
    public void ResolveModelUri_OfALoggedModel_SaysItIsNotAVersion()
    {
        using var server = FixtureServer.Start();
        using var client = server.CreateClient();

        var ex = Assert.Throws<MlflowException>(() => new MlflowModelRegistry(client).ResolveModelUri("models:/m-0123"));

        Assert.That(ex!.Message, Does.Contain("logged model 'm-0123'").And.Contain("DownloadModel"));
        Assert.That(server.Requests, Is.Empty);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task DownloadModel_OfALoggedModel_FetchesItsArtifactUri(bool throughAVersion)
    {
        var got = RestFixture.Load("rest-mlflow3", "logged-models-get.ok");
        var modelId = got.Path.Split('/')[5];
        var root = got.ResponseJson!["model"]!["info"]!["artifact_uri"]!.GetValue<string>();
        var proxied = root["mlflow-artifacts:/".Length..];
        using var server = FixtureServer.Start().Answer(got);
        if (throughAVersion)
        {
            // The registry of a version registered from the logged model: its source is models:/m-<id>, and a registry
            // that hands the source back unresolved still leads to the model's files.
            server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/registered-models/alias").UsingGet())
                .RespondWith(Ok($$$"""{"model_version":{"name":"clf","version":"1","source":"models:/{{{modelId}}}","status":"READY"}}"""));
            server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/model-versions/get-download-uri").UsingGet())
                .RespondWith(Ok($$"""{"artifact_uri":"models:/{{modelId}}"}"""));
        }

        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow-artifacts/artifacts").WithParam("path", proxied).UsingGet())
            .RespondWith(Ok("""{"files":[{"path":"MLmodel","is_dir":false,"file_size":5}]}"""));
        server.Server.Given(Request.Create().WithPath($"/api/2.0/mlflow-artifacts/artifacts/{proxied}/MLmodel").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("flav!"));
        using var client = server.CreateClient();
        var target = Path.Combine(Path.GetTempPath(), "dl-lm-" + Guid.NewGuid().ToString("N"));
        try
        {
            await new MlflowModelRegistry(client).DownloadModelAsync(throughAVersion ? "models:/clf@champion" : $"models:/{modelId}", target);

            Assert.That(await File.ReadAllTextAsync(Path.Combine(target, "MLmodel")), Is.EqualTo("flav!"));
            Assert.That(server.Requests.Count(r => r.RequestMessage.AbsolutePath == got.Path), Is.EqualTo(1));
        }
        finally
        {
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }
        }
    }

    [Test]
    public void DownloadModel_OfAnUnknownLoggedModel_IsResourceDoesNotExist()
    {
        var missing = RestFixture.Load("rest-mlflow3", "logged-models-get.not-found");
        using var server = FixtureServer.Start().Answer(missing);
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => new MlflowModelRegistry(client).DownloadModelAsync("models:/" + missing.Path.Split('/')[5], Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid().ToString("N"))));

        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }

    [Test]
    public void ModelVersionFromALoggedModel_HasNoModelId_OnMlflow3111_ButItsSourceNamesIt()
    {
        // What the recorded 3.11.1 server answered to a create that sent model_id: no model_id in the answer.
        var created = RestFixture.Load("rest-mlflow3", "model-versions-create.from-logged-model");
        Assert.That(created.RequestJson!["model_id"], Is.Not.Null);
        var version = System.Text.Json.JsonSerializer.Deserialize(created.ResponseJson!["model_version"]!.ToJsonString(), Mlflow.Client.Rest.MlflowRegistryJsonContext.Default.ModelVersionResponse.Options.GetTypeInfo(typeof(ModelVersion)));
        var mv = (ModelVersion)version!;

        Assert.That(mv.ModelId, Is.Null);
        Assert.That(ModelUri.Parse(mv.Source!).ModelId, Is.EqualTo(created.RequestJson!["model_id"]!.GetValue<string>()));
    }
}
