// One metric file of the local run as a sync sees it: its points from where the last sync stopped (a byte offset the journal recorded), or from the start.
using System.Globalization;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Sync;

/// <summary>
/// The points of one local metric file a sync works with, indexed by their position among the file's well-formed points.
/// Loaded from the offset after the acknowledged points when the journal's offset can be trusted, else from the start;
/// the prefix is read on demand (reconciliation compares every point with the server's history, and a journal reset
/// sends from the start). The view keeps the end it was loaded with, so points appended meanwhile wait for the next sync.
/// </summary>
internal sealed class LocalMetricFile
{
    /// <summary>The longest line looked at to check an offset; a longer last line reads the file from the start.</summary>
    private const int MaxCheckedLine = 4096;

    private readonly LocalFileStore _source;
    private readonly string _path;
    private readonly string _key;
    private Columns _points = new(0);
    private long _baseOffset;
    private Dictionary<long, Metric>? _linked;

    private LocalMetricFile(LocalFileStore source, string path, string key)
    {
        _source = source;
        _path = path;
        _key = key;
    }

    /// <summary>The position of the first point held (the points before it are acknowledged and not read).</summary>
    public long Base { get; private set; }

    /// <summary>The points in the file, the unread prefix included.</summary>
    public long Count => Base + _points.Count;

    /// <summary>Bytes of the file read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Whether some point is sent with a model link (<see cref="Link"/>).</summary>
    public bool HasLinks => _linked is { Count: > 0 };

    /// <summary>The point at <paramref name="index"/>, with its model link if it has one (reads the prefix when it is before <see cref="Base"/>).</summary>
    public Metric this[long index]
    {
        get
        {
            if (_linked is not null && _linked.TryGetValue(index, out var linked))
            {
                return linked;
            }

            if (index < Base)
            {
                LoadFromStart();
            }

            return _points[checked((int)(index - Base))].ToMetric(_key);
        }
    }

    /// <summary>
    /// Makes the point at <paramref name="index"/> (held: at or after <see cref="Base"/>) go with a model link: the server
    /// model id and the dataset of the model's line, as MLflow's <c>log-batch</c> takes them.
    /// </summary>
    public void Link(long index, string modelId, string? datasetName, string? datasetDigest)
    {
        var point = this[index];
        _linked ??= [];
        _linked[index] = point with { ModelId = modelId, DatasetName = datasetName, DatasetDigest = datasetDigest };
    }

    /// <summary>Reads the file from the journal's offset for <paramref name="key"/> when it can be trusted and no range of it is in flight, else from the start.</summary>
    public static LocalMetricFile Load(LocalFileStore source, string path, string key, SyncJournal journal)
    {
        var file = new LocalMetricFile(source, path, key);
        if (journal.InFlight?.ContainsKey(key) != true && TrustedOffset(path, key, journal) is { } offset)
        {
            file.Base = offset.Count;
            file._baseOffset = offset.Offset;
        }

        file._points = new Columns(EstimatedPoints(path, file._baseOffset));
        file.BytesRead += source.ReadMetricFile(path, file._baseOffset, file._points);
        return file;
    }

    /// <summary>Every point from the file's start up to <see cref="Count"/>, with their model links (reads the prefix when it was skipped).</summary>
    public IReadOnlyList<Metric> FromStart()
    {
        LoadFromStart();
        var points = new List<Metric>(_points.Count);
        for (var i = 0; i < _points.Count; i++)
        {
            points.Add(_points[i].ToMetric(_key));
        }

        foreach (var (index, point) in _linked ?? [])
        {
            points[checked((int)index)] = point;
        }

        return points;
    }

    /// <summary>Records in the journal that the first <paramref name="count"/> points are acknowledged, with the offset where they end.</summary>
    public void Acknowledge(SyncJournal journal, long count)
    {
        journal.Metrics[_key] = count;
        if (count > Base && count <= Count)
        {
            var last = checked((int)(count - Base - 1));
            journal.MetricOffsets[_key] = new SyncMetricOffset { Count = count, Offset = _points.LineEnd(last), Last = Fingerprint(_points[last].ToMetric(_key)) };
        }
        else if (count != Base || count == 0)
        {
            journal.MetricOffsets.Remove(_key); // (count == Base > 0: the offset it was loaded from still holds)
        }
    }

    private void LoadFromStart()
    {
        if (Base == 0)
        {
            return;
        }

        var points = new Columns(EstimatedPoints(_path, 0));
        BytesRead += _source.ReadMetricFile(_path, 0, points);
        points.Truncate((int)Math.Min(points.Count, Count));
        _points = points;
        Base = 0;
        _baseOffset = 0;
    }

    /// <summary>
    /// The journal's offset of <paramref name="key"/> when it still describes the file: recorded for the acknowledged
    /// count, within the file, and the line that ends there holds the acknowledged last point. A few KB are read.
    /// </summary>
    private static SyncMetricOffset? TrustedOffset(string path, string key, SyncJournal journal)
    {
        if (!journal.MetricOffsets.TryGetValue(key, out var known) || known.Count <= 0 || known.Offset <= 0
            || known.Count != journal.Metrics.GetValueOrDefault(key))
        {
            return null;
        }

        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            if (fs.Length < known.Offset)
            {
                return null;
            }

            var window = new byte[(int)Math.Min(known.Offset, MaxCheckedLine)];
            fs.Seek(known.Offset - window.Length, SeekOrigin.Begin);
            fs.ReadExactly(window);
            if (window[^1] != (byte)'\n')
            {
                return null;
            }

            var start = window.AsSpan(0, window.Length - 1).LastIndexOf((byte)'\n') + 1;
            if (start == 0 && window.Length < known.Offset)
            {
                return null; // the line starts before the window
            }

            var line = window.AsSpan(start, window.Length - 1 - start);
            return MetricLine.Read(line, out var last) == MetricLineKind.Point && Fingerprint(last.ToMetric(key)) == known.Last ? known : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string Fingerprint(Metric point)
    {
        var k = MetricReconciler.PointKey.Of(point);
        return SyncJournal.Hash(string.Create(CultureInfo.InvariantCulture, $"{k.Timestamp} {k.Step} {k.ValueBits}"));
    }

    /// <summary>About how many points the file holds from <paramref name="offset"/> on (lines the SDK writes take 30 to 40 bytes).</summary>
    private static int EstimatedPoints(string path, long offset)
    {
        try
        {
            return (int)Math.Clamp((new FileInfo(path).Length - offset) / 32, 16, Array.MaxLength / 2);
        }
        catch (IOException)
        {
            return 16;
        }
    }

    /// <summary>
    /// The points held, as columns of values rather than an object each: a million points are four arrays (timestamps,
    /// values, steps, line ends) the garbage collector never walks, where a list of <see cref="Metric"/>s made it copy a million objects between generations
    /// (mlflow-sync read a million-point run in 470 ms, 200 of them collecting). A point becomes a <see cref="Metric"/>
    /// when a batch takes it.
    /// </summary>
    private sealed class Columns(int capacity) : IMetricLineSink
    {
        private long[] _timestamps = new long[capacity];
        private double[] _values = new double[capacity];
        private long[] _steps = new long[capacity];
        private long[] _lineEnds = new long[capacity];
        private Dictionary<int, (string Name, string Digest)>? _datasets;

        public int Count { get; private set; }

        public MetricLine this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
                return _datasets is not null && _datasets.TryGetValue(index, out var dataset)
                    ? new MetricLine(_timestamps[index], _values[index], _steps[index], dataset.Name, dataset.Digest)
                    : new MetricLine(_timestamps[index], _values[index], _steps[index]);
            }
        }

        /// <summary>The byte offset just after the line of the point at <paramref name="index"/>.</summary>
        public long LineEnd(int index) => _lineEnds[index];

        public void Add(in MetricLine point, long lineEnd)
        {
            if (Count == _timestamps.Length)
            {
                var grown = Math.Max(16, Count * 2);
                Array.Resize(ref _timestamps, grown);
                Array.Resize(ref _values, grown);
                Array.Resize(ref _steps, grown);
                Array.Resize(ref _lineEnds, grown);
            }

            _timestamps[Count] = point.Timestamp;
            _values[Count] = point.Value;
            _steps[Count] = point.Step;
            _lineEnds[Count] = lineEnd;
            if (point.DatasetName is not null)
            {
                (_datasets ??= [])[Count] = (point.DatasetName, point.DatasetDigest!);
            }

            Count++;
        }

        /// <summary>Forgets the points from <paramref name="count"/> on.</summary>
        public void Truncate(int count)
        {
            Count = count;
            foreach (var index in _datasets?.Keys.Where(i => i >= count).ToList() ?? [])
            {
                _datasets!.Remove(index);
            }
        }
    }
}
