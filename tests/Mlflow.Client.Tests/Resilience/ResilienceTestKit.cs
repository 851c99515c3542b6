using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using WireMock;
using WireMock.Types;
using WireMock.Util;
using Mlflow.Client.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Resilience;

/// <summary>Helpers of the resilience tests: answer sequences on WireMock, fast retry options, a log capture.</summary>
internal static class ResilienceTestKit
{
    public const string RunGet = "/api/2.0/mlflow/runs/get";
    public const string RunCreate = "/api/2.0/mlflow/runs/create";
    public const string RunJson = """{"run":{"info":{"run_id":"r1","experiment_id":"0","status":"RUNNING","lifecycle_stage":"active"},"data":{}}}""";

    /// <summary>Answers <paramref name="path"/> with the given responses in order; the last one repeats.</summary>
    public static void Sequence(this FixtureServer server, string path, params IResponseBuilder[] responses)
    {
        if (responses.Length == 1)
        {
            server.Server.Given(Request.Create().WithPath(path).UsingAnyMethod()).RespondWith(responses[0]);
            return;
        }

        // A WireMock scenario moves on when a mapping answers; the last state loops onto itself so it repeats.
        var scenario = "seq-" + Guid.NewGuid().ToString("N");
        for (int i = 0; i < responses.Length; i++)
        {
            var given = server.Server.Given(Request.Create().WithPath(path).UsingAnyMethod()).InScenario(scenario);
            if (i > 0)
            {
                given = given.WhenStateIs("s" + i);
            }

            given = given.WillSetStateTo("s" + Math.Min(i + 1, responses.Length - 1));
            given.RespondWith(responses[i]);
        }
    }

    /// <summary>
    /// Answers the first request after <paramref name="firstDelay"/> and every later one at once, counting on arrival
    /// (a scenario would only move on once the slow answer went out).
    /// </summary>
    public static void SlowThenFast(this FixtureServer server, string path, TimeSpan firstDelay, string body = RunJson)
    {
        int arrived = 0;
        server.Server.Given(Request.Create().WithPath(path).UsingAnyMethod())
            .RespondWith(Response.Create().WithCallback(async _ =>
            {
                if (Interlocked.Increment(ref arrived) == 1)
                {
                    await Task.Delay(firstDelay);
                }

                var message = new ResponseMessage
                {
                    StatusCode = 200,
                    BodyData = new BodyData { BodyAsString = body, DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
                };
                message.AddHeader("Content-Type", "application/json");
                return (IResponseMessage)message;
            }));
    }

    public static IResponseBuilder Status(int status, string body = """{"error_code":"INTERNAL_ERROR","message":"boom"}""")
        => Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);

    public static IResponseBuilder Ok(string body = RunJson) => Status(200, body);

    /// <summary>Options with the real policy but millisecond backoffs.</summary>
    public static MlflowClientOptions FastOptions(string url, ILoggerFactory? logs = null) => new()
    {
        TrackingUri = url,
        RequestTimeout = TimeSpan.FromSeconds(5),
        LoggerFactory = logs,
        Retry =
        {
            BackoffFactor = TimeSpan.FromMilliseconds(1),
            BackoffJitter = TimeSpan.Zero,
        },
    };

    public static int Count(this FixtureServer server, string path)
        => server.Requests.Count(r => r.RequestMessage.Path == path);

    /// <summary>Waits (at most <paramref name="limit"/>) until WireMock logged <paramref name="expected"/> requests; delayed answers are logged late.</summary>
    public static async Task<int> CountEventually(this FixtureServer server, string path, int expected, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        int count;
        while ((count = server.Count(path)) < expected && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }

        return count;
    }
}

/// <summary>Keeps every formatted log line.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public IReadOnlyList<string> Warnings => Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Lines.Enqueue((logLevel, formatter(state, exception) + (exception is null ? "" : " | " + exception)));
    }
}
