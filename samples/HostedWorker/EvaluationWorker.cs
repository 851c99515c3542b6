using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mlflow.Client;

namespace HostedWorker;

/// <summary>How often the worker evaluates.</summary>
public sealed class WorkerOptions
{
    /// <summary>Time between two evaluations.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Each tick: scores a threshold classifier on fresh synthetic data and logs the threshold and the accuracy in a run.</summary>
public sealed partial class EvaluationWorker(MlflowTracker tracker, IOptions<WorkerOptions> options, ILogger<EvaluationWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval);
        var tick = 0;
        do
        {
            tick++;
            var threshold = Math.Round(0.3 + (0.05 * (tick % 8)), 2);
            // The run is not tied to stoppingToken: a tick that started finishes, and Ctrl+C waits for it.
            await tracker.RunAsync($"tick-{tick}", run =>
            {
                run.LogParam("threshold", threshold);
                var accuracy = Evaluate(threshold, seed: tick);
                run.LogMetric("accuracy", accuracy);
                LogRun(logger, run.RunId, tick, threshold, accuracy);
                return Task.CompletedTask;
            }, CancellationToken.None);
        }
        while (await WaitForNextTick(timer, stoppingToken));
    }

    private static async Task<bool> WaitForNextTick(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Logged run {RunId} (tick {Tick}): threshold {Threshold}, accuracy {Accuracy}")]
    private static partial void LogRun(ILogger logger, string runId, int tick, double threshold, double accuracy);

    /// <summary>Accuracy of "positive when x is above the threshold" on 1,000 points whose true boundary is 0.5.</summary>
    private static double Evaluate(double threshold, int seed)
    {
        var random = new Random(seed);
        var correct = 0;
        for (var i = 0; i < 1000; i++)
        {
            var x = random.NextDouble();
            var label = x + ((random.NextDouble() - 0.5) * 0.2) > 0.5;
            correct += (x > threshold) == label ? 1 : 0;
        }

        return correct / 1000.0;
    }
}
