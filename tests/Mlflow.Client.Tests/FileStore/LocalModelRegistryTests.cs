using System.Text;
using Mlflow.Client.FileStore;
using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>The registry of a local store: MLflow's file registry layout, registration, aliases, tags, models:/ URIs and download.</summary>
internal sealed class LocalModelRegistryTests : FileStoreTestBase
{
    internal static async Task<string> LogModelRunAsync(LocalFileStore store)
    {
        var run = await store.CreateRunAsync("0", "trainer", 1_700_000_000_000, null, "me", None);
        var id = run.Info.RunId;
        await store.LogArtifactAsync(id, "model/MLmodel", new MemoryStream(Encoding.UTF8.GetBytes("flavors: {}\n")), None);
        await store.LogArtifactAsync(id, "model/data/weights.bin", new MemoryStream([1, 2, 3]), None);
        await store.UpdateRunAsync(id, RunStatus.Finished, 1_700_000_001_000, null, None);
        return id;
    }

    private MlflowModelRegistry NewRegistry() => new(Store, new LocalModelRegistry(Store), null);

    [Test]
    public async Task RegisterModel_WritesMlflowsLayout_WithTheRunsArtifactSource()
    {
        var runId = await LogModelRunAsync(Store);
        var registry = NewRegistry();

        var v1 = await registry.RegisterModelAsync(runId, "model", "fraud", new RegisterModelOptions { Tags = [new("stage/why", "first")], Description = "v one" });
        var v2 = await registry.RegisterModelAsync($"runs:/{runId}/model", "fraud");

        var artifactUri = (await Store.GetRunAsync(runId, None)).Info.ArtifactUri;
        Assert.That(v1.Version, Is.EqualTo("1"));
        Assert.That(v2.Version, Is.EqualTo("2"));
        Assert.That(v1.Source, Is.EqualTo(artifactUri + "/model"));
        Assert.That(v1.RunId, Is.EqualTo(runId));
        Assert.That(v1.Status, Is.EqualTo(ModelVersionStatus.Ready));
        Assert.That(v1.Tags, Is.EqualTo(new[] { new Tag("stage/why", "first") }));
        Assert.That(v1.Description, Is.EqualTo("v one"));
        var modelDir = Path.Combine(Root, "models", "fraud");
        var meta = MiniYaml.Read(await File.ReadAllTextAsync(Path.Combine(modelDir, "meta.yaml")));
        Assert.That(meta.Keys, Is.EquivalentTo(new[] { "aliases", "creation_timestamp", "description", "last_updated_timestamp", "name" }));
        var versionMeta = MiniYaml.Read(await File.ReadAllTextAsync(Path.Combine(modelDir, "version-1", "meta.yaml")));
        Assert.That(versionMeta.Keys, Is.EquivalentTo(new[]
        {
            "aliases", "creation_timestamp", "current_stage", "description", "last_updated_timestamp", "name", "run_id", "run_link",
            "source", "status", "status_message", "storage_location", "user_id", "version",
        }));
        Assert.That(versionMeta["version"], Is.EqualTo(1L));
        Assert.That(versionMeta["current_stage"], Is.EqualTo("None"));
        Assert.That(versionMeta["status"], Is.EqualTo("READY"));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(modelDir, "version-1", "tags", "stage", "why")), Is.EqualTo("first"));
        Assert.That((await Store.SearchExperimentsAsync(new ExperimentSearchOptions(), null, None)).Items.Select(e => e.Name), Is.EqualTo(new[] { "Default" }), "models/ is no experiment");
    }

    [Test]
    public async Task Aliases_TagsDescriptions_AndModelUris()
    {
        var runId = await LogModelRunAsync(Store);
        var registry = NewRegistry();
        await registry.RegisterModelAsync(runId, "model", "m");
        await registry.RegisterModelAsync(runId, "model", "m");

        await registry.SetAliasAsync("m", "champion", "1");
        Assert.That((await registry.GetVersionByAliasAsync("m", "champion")).Version, Is.EqualTo("1"));
        Assert.That((await registry.GetModelVersionAsync("m", "1")).Aliases, Is.EqualTo(new[] { "champion" }));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(Root, "models", "m", "aliases", "champion")), Is.EqualTo("1"));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(Root, "models", "m", "meta.yaml")), Does.Contain("aliases:\n  champion: '1'\n"));
        await registry.SetAliasAsync("m", "champion", "2");
        Assert.That((await registry.ResolveModelUriAsync("models:/m@champion")).Version, Is.EqualTo("2"), "an alias moves");
        Assert.That((await registry.ResolveModelUriAsync("models:/m/latest")).Version, Is.EqualTo("2"));
        Assert.That((await registry.ResolveModelUriAsync("models:/m/1")).Version, Is.EqualTo("1"));
        Assert.That((await registry.GetLatestVersionAsync("m")).Version, Is.EqualTo("2"));
        await registry.DeleteAliasAsync("m", "champion");
        var ex = Assert.ThrowsAsync<MlflowException>(() => registry.GetVersionByAliasAsync("m", "champion"));
        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));

        await registry.SetVersionTagAsync("m", "2", "owner", "team-a");
        Assert.That((await registry.GetModelVersionAsync("m", "2")).Tags, Does.Contain(new Tag("owner", "team-a")));
        await registry.DeleteVersionTagAsync("m", "2", "owner");
        Assert.That((await registry.GetModelVersionAsync("m", "2")).Tags, Is.Empty);
        Assert.That((await registry.SetVersionDescriptionAsync("m", "2", "better")).Description, Is.EqualTo("better"));
        Assert.That((await registry.SetModelDescriptionAsync("m", "fraud model")).Description, Is.EqualTo("fraud model"));
        var model = await registry.GetRegisteredModelAsync("m");
        Assert.That(model.Description, Is.EqualTo("fraud model"));
        Assert.That(model.LatestVersions.Select(v => v.Version), Is.EqualTo(new[] { "2" }));
        Assert.That((await registry.GetModelVersionAsync("m", "2")).Description, Is.EqualTo("better"));
    }

    [Test]
    public async Task DownloadModel_CopiesTheVersionsFiles()
    {
        var runId = await LogModelRunAsync(Store);
        var registry = NewRegistry();
        await registry.RegisterModelAsync(runId, "model", "m");
        await registry.SetAliasAsync("m", "champion", "1");
        var target = Path.Combine(Parent, "download");

        var folder = await registry.DownloadModelAsync("models:/m@champion", target);

        Assert.That(await File.ReadAllTextAsync(Path.Combine(folder, "MLmodel")), Is.EqualTo("flavors: {}\n"));
        Assert.That(await File.ReadAllBytesAsync(Path.Combine(folder, "data", "weights.bin")), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [TestCase("a/b")]
    [TestCase("a\\b")]
    [TestCase("..")]
    [TestCase(".")]
    [TestCase("50%")]
    [TestCase("")]
    [TestCase("con")]
    public void Names_MlflowOrTheFileSystemRefuse_AreRefused_AndNothingIsWritten(string name)
    {
        var registry = new LocalModelRegistry(Store);

        Assert.Catch<Exception>(() => registry.CreateRegisteredModelAsync(name, None).GetAwaiter().GetResult());

        var models = Path.Combine(Root, "models");
        Assert.That(Directory.Exists(models) ? Directory.EnumerateFileSystemEntries(models) : [], Is.Empty);
        Assert.That(Directory.EnumerateFileSystemEntries(Parent).Select(Path.GetFileName), Is.EqualTo(new[] { "mlruns" }), "nothing beside the store");
    }

    [TestCase("latest")]
    [TestCase("v3")]
    [TestCase("with space")]
    [TestCase("../x")]
    public async Task Aliases_MlflowRefuses_AreRefused(string alias)
    {
        var runId = await LogModelRunAsync(Store);
        var registry = NewRegistry();
        await registry.RegisterModelAsync(runId, "model", "m");

        var ex = Assert.ThrowsAsync<MlflowException>(() => registry.SetAliasAsync("m", alias, "1"));

        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(Directory.Exists(Path.Combine(Root, "models", "m", "aliases")), Is.False);
    }

    [Test]
    public void MissingModelAndVersion_AreResourceDoesNotExist()
    {
        var registry = NewRegistry();

        Assert.That(Assert.ThrowsAsync<MlflowException>(() => registry.GetRegisteredModelAsync("nope"))!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(Assert.ThrowsAsync<MlflowException>(() => registry.GetModelVersionAsync("nope", "1"))!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }
}
