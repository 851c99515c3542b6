using NUnit.Framework;

namespace Mlflow.Client.Tests.Configuration;

/// <summary>
/// A database tracking URI (the tutorial's <c>sqlite:///mlruns.db</c>) is refused, and the refusal says what to do
/// instead: serve that database with <c>mlflow server --backend-store-uri ...</c> and log to the server's http URI.
/// </summary>
public sealed class DatabaseTrackingUriTests
{
    [Test]
    public void The_tracker_refuses_sqlite_and_says_to_serve_it_with_mlflow_server()
    {
        var ex = Assert.Throws<NotSupportedException>(() => MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = "sqlite:///mlruns.db" }));
        Assert.That(ex!.Message, Does.Contain("mlflow server --backend-store-uri sqlite:///mlruns.db"));
        Assert.That(ex.Message, Does.Contain("http://127.0.0.1:5000"));
    }

    [Test]
    public void The_client_refuses_sqlite_and_says_to_serve_it_with_mlflow_server()
    {
        var ex = Assert.Throws<NotSupportedException>(() => new MlflowClient(new MlflowClientOptions { TrackingUri = "sqlite:///mlruns.db" }).Dispose());
        Assert.That(ex!.Message, Does.Contain("mlflow server --backend-store-uri sqlite:///mlruns.db"));
        Assert.That(ex.Message, Does.Contain("http://127.0.0.1:5000"));
    }

    [TestCase("postgresql://u:secret@db.example/mlflow")]
    [TestCase("mysql+pymysql://u:secret@db.example/mlflow")]
    public void A_server_database_gets_the_same_advice_without_its_credentials(string uri)
    {
        var ex = Assert.Throws<NotSupportedException>(() => MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = uri }));
        Assert.That(ex!.Message, Does.Contain("mlflow server --backend-store-uri ").And.Contain("db.example/mlflow"));
        Assert.That(ex.Message, Does.Not.Contain("secret"));
    }
}
