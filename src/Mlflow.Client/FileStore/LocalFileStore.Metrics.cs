using System.Buffers;
using System.Globalization;

namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    /// <summary>Appends the batch: the lines of each key formatted into one buffer and written with one call, in logged order.</summary>
    private void AppendMetrics(RunWriters.Writer w, IReadOnlyList<Metric> metrics)
    {
        // Group by key, keeping the logged order within a key.
        var groups = new Dictionary<string, List<Metric>>(StringComparer.Ordinal);
        string? lastKey = null;
        List<Metric>? lastList = null;
        foreach (var m in metrics)
        {
            if (!ReferenceEquals(m.Key, lastKey) && m.Key != lastKey)
            {
                if (!groups.TryGetValue(m.Key, out lastList))
                {
                    lastList = [];
                    groups.Add(m.Key, lastList);
                }

                lastKey = m.Key;
            }

            lastList!.Add(m);
        }

        foreach (var (key, points) in groups)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(points.Count * MaxLineBytes);
            try
            {
                var length = 0;
                foreach (var m in points)
                {
                    length += FormatLine(m, buffer.AsSpan(length));
                }

                var file = GetMetricFile(w, key);
                var stream = file.Stream;
                if (stream.Position != stream.Length)
                {
                    // Another writer (another process, or a file replaced under us) changed the file: append at its end.
                    stream.Seek(0, SeekOrigin.End);
                    RepairTornTail(stream);
                }

                stream.Write(buffer, 0, length);
                file.LastUsed = w.LastUsed;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Longest metric line: two int64 (20 chars each), a Python float, three separators.</summary>
    private const int MaxLineBytes = 20 + 1 + PythonFloat.MaxLength + 1 + 20 + 1;

    /// <summary>
    /// "ts value step\n": also for a point with a dataset, which MLflow 3.11.1 would write as five words. MLflow 2.12.2
    /// (and every 2.x reader) fails on such a line and then cannot read the run at all; the dataset and model of a
    /// model-linked point are kept in the model's metric file (<see cref="AppendModelMetrics"/>), which 2.x never reads.
    /// </summary>
    private static int FormatLine(Metric m, Span<byte> destination)
    {
        m.Timestamp.TryFormat(destination, out var n, default, CultureInfo.InvariantCulture);
        destination[n++] = (byte)' ';
        n += PythonFloat.FormatUtf8(m.Value, destination[n..]);
        destination[n++] = (byte)' ';
        m.Step.TryFormat(destination[n..], out var s, default, CultureInfo.InvariantCulture);
        n += s;
        destination[n++] = (byte)'\n';
        return n;
    }

    private RunWriters.MetricFile GetMetricFile(RunWriters.Writer w, string key)
    {
        if (w.Files.TryGetValue(key, out var file))
        {
            return file;
        }

        var path = FileStorePaths.Combine(_root, Path.Combine(w.RunDir, "metrics"), key, "metric key");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        try
        {
            stream.Seek(0, SeekOrigin.End);
            RepairTornTail(stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        file = new RunWriters.MetricFile(stream);
        w.Files[key] = file;
        RunWriters.OnOpened(w);
        return file;
    }

    /// <summary>
    /// If the file does not end with '\n' (a writer was killed mid-line), cuts the partial last line so the next
    /// append starts on a fresh line and MLflow's reader (which fails on a malformed line) can read the file.
    /// The stream is left positioned at the (new) end.
    /// </summary>
    private void RepairTornTail(FileStream stream)
    {
        var length = stream.Length;
        if (length == 0)
        {
            return;
        }

        stream.Seek(-1, SeekOrigin.End);
        if (stream.ReadByte() == '\n')
        {
            return;
        }

        // Scan backwards for the last newline, in bounded chunks.
        var chunk = new byte[4096];
        var end = length;
        long cut = 0;
        while (end > 0)
        {
            var start = Math.Max(0, end - chunk.Length);
            stream.Seek(start, SeekOrigin.Begin);
            var count = (int)(end - start);
            stream.ReadExactly(chunk, 0, count);
            var idx = Array.LastIndexOf(chunk, (byte)'\n', count - 1, count);
            if (idx >= 0)
            {
                cut = start + idx + 1;
                break;
            }

            end = start;
        }

        stream.SetLength(cut);
        stream.Seek(0, SeekOrigin.End);
        Interlocked.Increment(ref _tornLines);
        FileStoreLog.TornTailRepaired(_logger, stream.Name);
        TornLineObserved?.Invoke(stream.Name, -1, "torn last line cut before appending");
    }

    public Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string metricKey, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        FileStorePaths.ValidateKey(metricKey, "metric key");
        var runDir = LocateRun(runId);
        var path = FileStorePaths.Combine(_root, Path.Combine(runDir, "metrics"), metricKey, "metric key");
        IReadOnlyList<Metric> result = File.Exists(path) ? ReadMetricFile(path, metricKey) : [];
        return Task.FromResult(result);
    }

    /// <summary>Reads every well-formed point of a metric file in file order; torn or malformed lines are skipped and reported.</summary>
    internal List<Metric> ReadMetricFile(string path, string key)
    {
        var sink = new MetricListSink(key);
        ReadMetricFile(path, 0, sink);
        return sink.Points;
    }

    /// <summary>
    /// Passes the well-formed points of a metric file from byte <paramref name="offset"/> (the start of a line) on to
    /// <paramref name="sink"/>, in file order, each with the byte offset just after its line. Torn or malformed lines
    /// are skipped and reported (line numbers count from the offset).
    /// </summary>
    /// <returns>The bytes read.</returns>
    internal long ReadMetricFile(string path, long offset, IMetricLineSink sink)
    {
        byte[] bytes;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1))
        {
            var length = fs.Length - offset;
            if (length <= 0)
            {
                return 0;
            }

            bytes = new byte[length];
            fs.Seek(offset, SeekOrigin.Begin);
            fs.ReadExactly(bytes);
        }

        var lineNo = 0;
        var start = 0;
        while (start < bytes.Length)
        {
            lineNo++;
            var nl = bytes.AsSpan(start).IndexOf((byte)'\n');
            if (nl < 0)
            {
                ReportSkipped(path, lineNo, "the last line has no line end (torn write)");
                break;
            }

            // '\n' never occurs inside a multi-byte UTF-8 sequence, so lines are cut on bytes.
            var kind = MetricLine.Read(bytes.AsSpan(start, nl), out var point);
            start += nl + 1;
            if (kind == MetricLineKind.Point)
            {
                sink.Add(point, offset + start);
            }
            else if (kind == MetricLineKind.Malformed)
            {
                ReportSkipped(path, lineNo, "malformed line");
            }
        }

        return bytes.Length;
    }

    private void ReportSkipped(string path, int line, string reason)
    {
        Interlocked.Increment(ref _tornLines);
        FileStoreLog.TornLine(_logger, path, line, reason);
        TornLineObserved?.Invoke(path, line, reason);
    }

    /// <summary>The latest point of every metric: the max by (step, timestamp, value), as MLflow compares them.</summary>
    private List<Metric> ReadLatestMetrics(string runDir)
    {
        var folder = Path.Combine(runDir, "metrics");
        var result = new List<Metric>();
        if (!Directory.Exists(folder))
        {
            return result;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!MlflowValidation.IsValidKey(key, out _))
            {
                continue;
            }

            Metric? best = null;
            foreach (var m in ReadMetricFile(file, key))
            {
                if (best is null || IsLater(m, best))
                {
                    best = m;
                }
            }

            if (best is not null)
            {
                result.Add(best);
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    /// <summary>Python's tuple comparison of (step, timestamp, value): NaN is never greater.</summary>
    internal static bool IsLater(Metric a, Metric b)
    {
        if (a.Step != b.Step)
        {
            return a.Step > b.Step;
        }

        if (a.Timestamp != b.Timestamp)
        {
            return a.Timestamp > b.Timestamp;
        }

        return a.Value > b.Value;
    }

    /// <summary>Collects a metric file's points as <see cref="Metric"/>s of one key.</summary>
    private sealed class MetricListSink(string key) : IMetricLineSink
    {
        public List<Metric> Points { get; } = [];

        public void Add(in MetricLine point, long lineEnd) => Points.Add(point.ToMetric(key));
    }
}
