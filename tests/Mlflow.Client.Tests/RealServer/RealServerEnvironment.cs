using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>The opt-in settings of the RealServer category (see tests/RealServer/SETUP.md); a test without them is ignored.</summary>
internal static class RealServerEnvironment
{
    /// <summary><c>MLFLOW_TEST_TRACKING_URI</c>, the real MLflow server to test against.</summary>
    public static string RequireTrackingUri()
    {
        var uri = Environment.GetEnvironmentVariable("MLFLOW_TEST_TRACKING_URI");
        if (string.IsNullOrWhiteSpace(uri))
        {
            Assert.Ignore("MLFLOW_TEST_TRACKING_URI is not set: no real MLflow server to test against.");
        }

        return uri!;
    }

    /// <summary>
    /// The tracking URI and <c>MLFLOW_TEST_SERVER_CONTROL</c> (<c>script|dir|port|backend</c>), for tests that
    /// <paramref name="action"/> the server (stop, restart or freeze it).
    /// </summary>
    public static (string Uri, string Control) RequireServerControl(string action)
    {
        var uri = Environment.GetEnvironmentVariable("MLFLOW_TEST_TRACKING_URI");
        var control = Environment.GetEnvironmentVariable("MLFLOW_TEST_SERVER_CONTROL");
        if (string.IsNullOrWhiteSpace(uri) || string.IsNullOrWhiteSpace(control))
        {
            Assert.Ignore($"Needs MLFLOW_TEST_TRACKING_URI and MLFLOW_TEST_SERVER_CONTROL (script|dir|port|backend) to {action} a real server.");
        }

        return (uri!, control!);
    }
}
