using System.Net;
using Mlflow.Client.Rest;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

/// <summary>How failures on the wire become <see cref="MlflowException"/>.</summary>
[TestFixture]
public class ErrorMappingTests
{
    [TestCase("rest", "server-unknown-endpoint", HttpStatusCode.NotFound, "Not Found")]
    [TestCase("rest", "server-wrong-method", HttpStatusCode.MethodNotAllowed, "Method Not Allowed")]
    [TestCase("rest", "runs-log-batch.malformed-json", HttpStatusCode.InternalServerError, "Internal Server Error")]
    [TestCase("rest-file-backend", "server-unknown-endpoint", HttpStatusCode.NotFound, "Not Found")]
    public void HtmlErrorPages_GiveStatus_NoCode_AndTagFreeExcerpt(string folder, string caseName, HttpStatusCode status, string text)
    {
        var fixture = RestFixture.Load(folder, caseName);
        Assert.That(fixture.ContentType, Does.StartWith("text/html"));
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(fixture.Status).WithHeader("Content-Type", fixture.ContentType!).WithBody(fixture.ResponseBody));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.LogParamAsync("0123456789abcdef0123456789abcdef", "k", "v"));

        Assert.That(ex!.StatusCode, Is.EqualTo(status));
        Assert.That(ex.RawErrorCode, Is.Null);
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.Unknown));
        Assert.That(ex.ServerMessage, Does.Contain(text).And.Not.Contain("<").And.Not.Contain(">"));
        Assert.That(ex.Method, Is.EqualTo("POST"));
        Assert.That(ex.Path, Is.EqualTo("/api/2.0/mlflow/runs/log-parameter"));
        Assert.That(ex.Message, Does.Contain(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture)).And.Contain("/api/2.0/mlflow/runs/log-parameter"));
    }

    [Test]
    public void JsonError_GivesCodeAndMessage_ForUnknownCodesToo()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Content-Type", "application/json").WithBody("""{"error_code":"SOMETHING_NEW","message":"slow down"}"""));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(ex.RawErrorCode, Is.EqualTo("SOMETHING_NEW"));
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.Unknown));
        Assert.That(ex.ServerMessage, Is.EqualTo("slow down"));
    }

    [Test]
    public void EmptyErrorBody_GivesStatusOnly()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(404));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(ex.RawErrorCode, Is.Null);
        Assert.That(ex.ServerMessage, Is.Null.Or.Empty);
    }

    [Test]
    public void UnreadableSuccessBody_IsAnMlflowException()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("<html>proxy login</html>"));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ex.Message, Does.Contain("could not be read"));
    }

    [Test]
    public async Task UnreachableServer_IsAnMlflowException_WithoutStatus()
    {
        string url;
        using (var probe = FixtureServer.Start())
        {
            url = probe.Url;
        }

        await Task.Delay(50);
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = url, RequestTimeout = TimeSpan.FromSeconds(5), Retry = { MaxRetries = 0 } });

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r"));

        Assert.That(ex!.StatusCode, Is.Null);
        Assert.That(ex.Message, Does.Contain("could not be reached"));
        Assert.That(ex.InnerException, Is.InstanceOf<HttpRequestException>(), "the transport cause, not Refit's wrapper");
        Assert.That(ex.Method, Is.EqualTo("GET"));
        Assert.That(ex.Path, Is.EqualTo("/api/2.0/mlflow/runs/get"));
    }

    [Test]
    public void Timeout_IsAnMlflowException_CallerCancellation_IsNot()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{}").WithDelay(TimeSpan.FromSeconds(3)));
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = server.Url, RequestTimeout = TimeSpan.FromMilliseconds(300), Retry = { MaxRetries = 0 } });

        var timeout = Assert.ThrowsAsync<MlflowException>(() => client.SetTagAsync("r", "k", "v"));
        Assert.That(timeout!.Message, Does.Contain("timed out"));
        Assert.That(timeout.StatusCode, Is.Null);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        using var patient = new MlflowClient(new MlflowClientOptions { TrackingUri = server.Url, RequestTimeout = TimeSpan.FromSeconds(30) });
        Assert.That(async () => await patient.SetTagAsync("r", "k", "v", cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void ParseBody_LongHtml_IsCutAndDecoded()
    {
        var body = "<html><body><p>Tom &amp; Jerry</p>" + new string('x', 1000) + "</body></html>";

        var (code, message) = ErrorMapping.ParseBody(body);

        Assert.That(code, Is.Null);
        Assert.That(message, Does.StartWith("Tom & Jerry"));
        Assert.That(message!.Length, Is.LessThanOrEqualTo(301));
        Assert.That(message, Does.EndWith("…"));
    }

    [Test]
    public void ParseBody_JsonWithoutMlflowFields_IsAnExcerpt()
    {
        var (code, message) = ErrorMapping.ParseBody("""{"detail":"nope"}""");

        Assert.That(code, Is.Null);
        Assert.That(message, Does.Contain("nope"));
    }

    [Test]
    public void ParseErrorCode_KnowsEveryEnumName()
    {
        foreach (var code in Enum.GetValues<MlflowErrorCode>().Where(c => c != MlflowErrorCode.Unknown))
        {
            var upperSnake = string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();
            Assert.That(MlflowException.ParseErrorCode(upperSnake), Is.EqualTo(code), upperSnake);
        }

        Assert.That(MlflowException.ParseErrorCode(null), Is.EqualTo(MlflowErrorCode.Unknown));
        Assert.That(MlflowException.ParseErrorCode("NOT_A_CODE"), Is.EqualTo(MlflowErrorCode.Unknown));
        Assert.That(MlflowException.ParseErrorCode("UNKNOWN"), Is.EqualTo(MlflowErrorCode.Unknown));
    }
}
