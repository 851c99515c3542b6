using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Mlflow.Client.Batching;
using Mlflow.Client.Rest;

namespace Mlflow.Client.Benchmarks;

internal static partial class ThroughputRuns
{
    internal static void BodyProbe()
    {
        var entries = Enumerable.Range(0, 1000).Select(i => LogEntry.Metric("train/loss", 1.0 / (i + 1), 1_700_000_000_000 + i, i)).ToArray();
        var buffer = new ArrayBufferWriter<byte>(128 * 1024);
        for (var round = 0; round < 5; round++)
        {
            var sw = Stopwatch.StartNew();
            List<Metric> m = null!;
            for (var i = 0; i < 2000; i++) { m = BatchBuilder.ToRequest(entries).Metrics; }
            var toReq = sw.Elapsed.TotalMicroseconds / 2000;
            var req = new LogBatchRequest("0123456789abcdef0123456789abcdef", m, null, null);
            sw.Restart();
            for (var i = 0; i < 2000; i++) { buffer.ResetWrittenCount(); using var w = new Utf8JsonWriter(buffer); JsonSerializer.Serialize(w, req, MlflowJsonContext.Default.LogBatchRequest); }
            var ser = sw.Elapsed.TotalMicroseconds / 2000;
            sw.Restart();
            for (var i = 0; i < 2000; i++) { _ = JsonSerializer.SerializeToUtf8Bytes(req, MlflowJsonContext.Default.LogBatchRequest); }
            var bytes = sw.Elapsed.TotalMicroseconds / 2000;
            sw.Restart();
            var d = new byte[32];
            for (var i = 0; i < 2000; i++) { for (var k = 0; k < 1000; k++) { (1.0 / (k + 1)).TryFormat(d, out _, default, System.Globalization.CultureInfo.InvariantCulture); } }
            var dbl = sw.Elapsed.TotalMicroseconds / 2000;
            Console.WriteLine($"ToRequest {toReq:F1} us; serialize to buffer {ser:F1} us; SerializeToUtf8Bytes {bytes:F1} us; 1000 double.TryFormat {dbl:F1} us; body {buffer.WrittenCount} bytes");
        }
    }
}
