using System.Text;
using System.Text.RegularExpressions;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// The exact bytes <see cref="MlflowClient"/> sends for values JSON can change silently: the sign of zero, and text
/// holding a lone UTF-16 surrogate (which a JSON writer turns into U+FFFD).
/// </summary>
[TestFixture]
public partial class ClientWireExactnessTests
{
    private const string RunId = "fcd8bee3f3904b21b113f8c8f6836750";

    private static FixtureServer AnsweringEmpty()
    {
        var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        return server;
    }

    private static string SentBody(FixtureServer server) => Encoding.UTF8.GetString(server.SingleRequest().RequestMessage.BodyAsBytes!);

    [Test]
    public async Task LogMetric_sends_negative_zero_with_its_sign()
    {
        using var server = AnsweringEmpty();
        using var client = server.CreateClient();

        await client.LogMetricAsync(RunId, "k", -0.0, 1_700_000_000_002, 3);

        Assert.That(SentBody(server), Is.EqualTo($$"""{"run_id":"{{RunId}}","key":"k","value":-0.0,"timestamp":1700000000002,"step":3}"""));
    }

    [TestCase(-0.0)]
    [TestCase(0.0)]
    [TestCase(0.1)]
    [TestCase(-123.456)]
    [TestCase(1e-7)]
    [TestCase(1e21)]
    [TestCase(1.7976931348623157e308)]
    [TestCase(double.Epsilon)]
    [TestCase(double.NaN)]
    [TestCase(double.NegativeInfinity)]
    public async Task LogMetric_writes_a_value_as_log_batch_does(double value)
    {
        using var single = AnsweringEmpty();
        using var batch = AnsweringEmpty();
        using (var client = single.CreateClient())
        {
            await client.LogMetricAsync(RunId, "k", value, 1, 0);
        }

        using (var client = batch.CreateClient())
        {
            await client.LogBatchAsync(RunId, [new Metric("k", value, 1, 0)]);
        }

        var sent = ValueText().Match(SentBody(single)).Groups[1].Value;
        Assert.That(sent, Is.EqualTo(ValueText().Match(SentBody(batch)).Groups[1].Value));
        var parsed = double.Parse(sent.Trim('"'), System.Globalization.CultureInfo.InvariantCulture);
        if (!double.IsNaN(value))
        {
            Assert.That(parsed, Is.EqualTo(value), "reads back as the value");
            Assert.That(double.IsNegative(parsed), Is.EqualTo(double.IsNegative(value)), "the sign is kept");
        }
    }

    public static IEnumerable<TestCaseData> LoneSurrogateWrites()
    {
        const string lone = "a\uD800b";
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.LogParamAsync(RunId, "p", lone))).SetName("LogParam_value");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.LogParamAsync(RunId, "p\uDC00", "v"))).SetName("LogParam_key");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.SetTagAsync(RunId, "t", lone))).SetName("SetTag_value");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.SetTagAsync(RunId, "t\uD83D", "v"))).SetName("SetTag_key");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.LogMetricAsync(RunId, "m\uDE00", 1, 1, 0))).SetName("LogMetric_key");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.LogBatchAsync(RunId, [new Metric("m", 1, 1, 0)], [new Param("p", "v")], [new Tag("t", lone)]))).SetName("LogBatch_tag_value");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.LogBatchAsync(RunId, null, [new Param("p", lone)]))).SetName("LogBatch_param_value");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.LogBatchAsync(RunId, [new Metric("m\uD800", 1, 1, 0)]))).SetName("LogBatch_metric_key");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.LogBatchExactlyOnceAsync(RunId, null, null, [new Tag("t", lone)]))).SetName("LogBatchExactlyOnce_tag_value");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.CreateRunAsync("1", tags: [new Tag("t", lone)]))).SetName("CreateRun_tag_value");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.CreateExperimentAsync("e", tags: [new Tag("t", lone)]))).SetName("CreateExperiment_tag_value");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.SetExperimentTagAsync("1", "t", lone))).SetName("SetExperimentTag_value");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.SetRegisteredModelTagAsync("model", "t", lone))).SetName("SetRegisteredModelTag_value");
        yield return new TestCaseData((Func<MlflowClient, Task>)(c => c.SetModelVersionTagAsync("model", "1", "t", lone))).SetName("SetModelVersionTag_value");
    }

    [TestCaseSource(nameof(LoneSurrogateWrites))]
    public void A_lone_surrogate_in_a_key_or_value_is_refused_and_nothing_is_sent(Func<MlflowClient, Task> write)
    {
        using var server = AnsweringEmpty();
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowValidationException>(() => write(client));

        Assert.That(ex!.Rule, Does.Contain("lone UTF-16 surrogate"));
        Assert.That(server.Requests, Is.Empty, "refused before sending, instead of sent as U+FFFD");
    }

    [Test]
    public async Task A_surrogate_pair_is_sent_intact()
    {
        using var server = AnsweringEmpty();
        using var client = server.CreateClient();

        await client.SetTagAsync(RunId, "t", "smile \U0001F600");

        Assert.That(SentBody(server), Is.EqualTo($$"""{"run_id":"{{RunId}}","key":"t","value":"smile \uD83D\uDE00"}"""));
    }

    [GeneratedRegex("\"value\":(\"[^\"]*\"|[^,}]*)")]
    private static partial Regex ValueText();
}
