using System.Text.Json.Nodes;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// Opt-in (<c>MLFLOW_SRC</c>, <c>MLFLOW_SHIMS</c>, as <see cref="RealMlflowReadTests"/>): MLflow's own
/// <c>MlflowClient(tracking_uri="file:...", registry_uri=same)</c> reads the registry our local store wrote, and we read
/// what MLflow then writes into it.
/// </summary>
[Category("RealServer")]
internal sealed class RealMlflowRegistryReadTests : FileStoreTestBase
{
    [Test]
    public async Task Mlflow_reads_the_registry_we_write_and_we_read_what_it_adds()
    {
        MlflowPython.Require();
        var runId = await LocalModelRegistryTests.LogModelRunAsync(Store);
        var registry = new MlflowModelRegistry(Store, new LocalModelRegistry(Store), null);
        await registry.RegisterModelAsync(runId, "model", "fraud model", new RegisterModelOptions { Tags = [new("owner", "team a")], Description = "first: 'quoted'" });
        await registry.RegisterModelAsync(runId, "model", "fraud model");
        await registry.SetAliasAsync("fraud model", "champion", "1");
        await registry.SetModelDescriptionAsync("fraud model", "detects fraud");
        var script = Path.Combine(Parent, "read_registry.py");
        await File.WriteAllTextAsync(script, """
            import json, sys
            from mlflow import MlflowClient
            uri = "file:" + sys.argv[1]
            c = MlflowClient(tracking_uri=uri, registry_uri=uri)
            m = c.get_registered_model("fraud model")
            mv = c.get_model_version_by_alias("fraud model", "champion")
            v2 = c.get_model_version("fraud model", "2")
            found = c.search_model_versions("name='fraud model'")
            c.set_registered_model_alias("fraud model", "challenger", "2")
            c.set_model_version_tag("fraud model", "2", "by", "python")
            c.update_model_version("fraud model", "1", description="edited by mlflow")
            json.dump({
                "description": m.description, "aliases": m.aliases,
                "champion": {"version": mv.version, "source": mv.source, "run_id": mv.run_id, "status": mv.status,
                             "tags": mv.tags, "description": mv.description, "aliases": mv.aliases},
                "v2_stage": v2.current_stage, "count": len(found),
                "download_uri": c.get_model_version_download_uri("fraud model", "1"),
            }, sys.stdout)
            """);
        var stdout = await MlflowPython.RunAsync(script, Root);

        var json = JsonNode.Parse(stdout)!;
        var artifactUri = (await Store.GetRunAsync(runId, None)).Info.ArtifactUri;
        Assert.That((string?)json["description"], Is.EqualTo("detects fraud"));
        Assert.That((string?)json["aliases"]!["champion"], Is.EqualTo("1"));
        var champion = json["champion"]!;
        Assert.That(champion["version"]!.ToJsonString(), Is.EqualTo("1"), "an int: MLflow's file registry reads versions as numbers");
        Assert.That((string?)champion["source"], Is.EqualTo(artifactUri + "/model"));
        Assert.That((string?)champion["run_id"], Is.EqualTo(runId));
        Assert.That((string?)champion["status"], Is.EqualTo("READY"));
        Assert.That((string?)champion["tags"]!["owner"], Is.EqualTo("team a"));
        Assert.That((string?)champion["description"], Is.EqualTo("first: 'quoted'"));
        Assert.That(champion["aliases"]!.AsArray().Select(a => (string?)a), Is.EqualTo(new[] { "champion" }));
        Assert.That((string?)json["v2_stage"], Is.EqualTo("None"));
        Assert.That((int)json["count"]!, Is.EqualTo(2));
        Assert.That((string?)json["download_uri"], Is.EqualTo(artifactUri + "/model"));

        // What MLflow wrote (a version meta.yaml holding an alias list now) reads back here.
        Assert.That((await registry.GetVersionByAliasAsync("fraud model", "challenger")).Version, Is.EqualTo("2"));
        Assert.That((await registry.GetModelVersionAsync("fraud model", "2")).Tags, Does.Contain(new Tag("by", "python")));
        var v1 = await registry.GetModelVersionAsync("fraud model", "1");
        Assert.That(v1.Description, Is.EqualTo("edited by mlflow"));
        Assert.That(v1.Aliases, Is.EqualTo(new[] { "champion" }));
    }
}
