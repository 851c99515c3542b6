using Mlflow.Client.Artifacts;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>Choosing where a server run's artifacts go from its artifact URI (no request is made).</summary>
internal sealed class ArtifactRepositoryTests
{
    private static MlflowClient RemoteClient() => new(new MlflowClientOptions { TrackingUri = "http://mlflow.example.invalid:5000" });

    [Test]
    public void A_proxy_root_goes_through_the_server()
    {
        using var client = RemoteClient();
        Assert.That(ArtifactRepositories.ForRoot(client, "mlflow-artifacts:/1/r/artifacts"), Is.InstanceOf<ProxyArtifactRepository>());
    }

    [Test]
    public void A_local_path_of_a_remote_server_that_does_not_exist_here_says_to_serve_artifacts()
    {
        using var client = RemoteClient();
        var path = "/nonexistent-" + Guid.NewGuid().ToString("N") + "/mlruns/1/r/artifacts";
        foreach (var root in new[] { path, "file://" + path })
        {
            var ex = Assert.Throws<NotSupportedException>(() => ArtifactRepositories.ForRoot(client, root))!;
            Assert.That(ex.Message, Does.Contain(path).And.Contain("--serve-artifacts").And.Contain("not reachable"));
        }
    }

    [Test]
    public void A_local_path_of_a_remote_server_in_a_folder_shared_here_is_written_directly()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var shared = Path.Combine(dir.Path, "mlruns");
        Directory.CreateDirectory(shared);
        using var client = RemoteClient();
        var repository = ArtifactRepositories.ForRoot(client, Path.Combine(shared, "1", "r", "artifacts"));
        Assert.That(repository, Is.InstanceOf<LocalArtifactRepository>());
        Assert.That(((LocalArtifactRepository)repository).Root, Is.EqualTo(Path.Combine(shared, "1", "r", "artifacts")));
    }

    [Test]
    public void A_file_uri_with_a_remote_host_is_not_a_local_folder()
    {
        using var client = RemoteClient();
        var ex = Assert.Throws<NotSupportedException>(() => ArtifactRepositories.ForRoot(client, "file://otherhost/srv/mlruns/1/r/artifacts"))!;
        Assert.That(ex.Message, Does.Contain("--serve-artifacts"));
    }

    [TestCase("C:/mlruns/1/r/artifacts", "")]
    [TestCase("/srv/mlruns", "")]
    [TestCase("s3://b/x", "s3")]
    [TestCase("file:///x", "file")]
    [TestCase("mlflow-artifacts:/1", "mlflow-artifacts")]
    public void Scheme_of_a_root(string uri, string scheme) => Assert.That(ArtifactRepositories.SchemeOf(uri), Is.EqualTo(scheme));
}
