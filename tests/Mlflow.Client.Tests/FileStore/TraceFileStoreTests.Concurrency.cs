using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>Two writers of one trace id (an offline drain and mlflow-sync on the same copy) never mix their files.</summary>
internal sealed partial class TraceFileStoreTests
{
    [Test]
    public async Task Two_writers_of_one_trace_id_one_wins_whole_and_the_other_is_refused()
    {
        var (experimentId, runId) = await CreateRunAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        for (var round = 0; round < 30 && DateTime.UtcNow < deadline; round++)
        {
            var info = SampleTrace(experimentId, runId);
            using var start = new Barrier(2);
            Task<TraceInfo> Writer(string who) => Task.Run(() =>
            {
                var mine = info with { Tags = new Dictionary<string, string> { ["writer"] = who } };
                var spans = SampleSpans().Select(s => s with { Name = s.Name + "-" + who }).ToList();
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                return Store.LogTraceAsync(mine, spans, None);
            });

            var a = Writer("a");
            var b = Writer("b");
            var outcomes = new List<(string Who, TraceInfo? Logged, MlflowException? Error)>();
            foreach (var (who, task) in new[] { ("a", a), ("b", b) })
            {
                try
                {
                    outcomes.Add((who, await task.WaitAsync(TimeSpan.FromSeconds(10)), null));
                }
                catch (MlflowException ex)
                {
                    outcomes.Add((who, null, ex));
                }
            }

            var winner = outcomes.Single(o => o.Logged is not null);
            var loser = outcomes.Single(o => o.Error is not null);
            Assert.That(loser.Error!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceAlreadyExists), $"round {round}");
            var stored = await Store.GetTraceAsync(info.TraceId, None);
            Assert.That(stored.Info.Tags["writer"], Is.EqualTo(winner.Who), $"round {round}: the tags are the winner's");
            Assert.That(stored.Spans.Select(s => s.Name), Has.All.EndsWith("-" + winner.Who), $"round {round}: the spans are the winner's");
            Assert.That(File.Exists(Path.Combine(Root, experimentId, "traces", info.TraceId, ".writing.lock")), Is.False, "the claim is gone");
        }
    }
}
