using Mlflow.Client.Batching;

namespace Mlflow.Client;

public sealed partial class ActiveRun
{
    /// <summary>Logs a metric point; NaN and ±Infinity are valid. Queued: returns at once.</summary>
    /// <param name="key">The metric key.</param>
    /// <param name="value">The value.</param>
    /// <param name="step">The step (0 when <see langword="null"/>).</param>
    /// <param name="timestamp">When it was measured; now (milliseconds) when <see langword="null"/>.</param>
    /// <exception cref="MlflowValidationException">The key breaks the key rules of <see cref="ActiveRun"/> (MLflow's, and the local store's file names while this run may write to one), or the timestamp is negative.</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public void LogMetric(string key, double value, long? step = null, DateTimeOffset? timestamp = null)
    {
        ValidateKey(key, "metric key");
        _batcher.Enqueue(Buffer, LogEntry.Metric(key, value, TimestampOf(timestamp, key), step ?? 0));
    }

    /// <inheritdoc cref="LogMetric(string, double, long?, DateTimeOffset?)"/>
    public void LogMetric(string key, int value, long? step = null, DateTimeOffset? timestamp = null) => LogMetric(key, (double)value, step, timestamp);

    /// <inheritdoc cref="LogMetric(string, double, long?, DateTimeOffset?)"/>
    public void LogMetric(string key, long value, long? step = null, DateTimeOffset? timestamp = null) => LogMetric(key, (double)value, step, timestamp);

    /// <inheritdoc cref="LogMetric(string, double, long?, DateTimeOffset?)"/>
    public void LogMetric(string key, float value, long? step = null, DateTimeOffset? timestamp = null) => LogMetric(key, (double)value, step, timestamp);

    /// <inheritdoc cref="LogMetric(string, double, long?, DateTimeOffset?)"/>
    public void LogMetric(string key, decimal value, long? step = null, DateTimeOffset? timestamp = null) => LogMetric(key, (double)value, step, timestamp);

    /// <summary>Logs a boolean metric point as 1 or 0.</summary>
    /// <inheritdoc cref="LogMetric(string, double, long?, DateTimeOffset?)"/>
    public void LogMetric(string key, bool value, long? step = null, DateTimeOffset? timestamp = null) => LogMetric(key, value ? 1.0 : 0.0, step, timestamp);

    /// <summary>Logs a duration metric point in seconds.</summary>
    /// <inheritdoc cref="LogMetric(string, double, long?, DateTimeOffset?)"/>
    public void LogMetric(string key, TimeSpan value, long? step = null, DateTimeOffset? timestamp = null) => LogMetric(key, value.TotalSeconds, step, timestamp);

    /// <summary>
    /// Logs a metric point measured on a logged model (MLflow 3's <c>model_id</c>), and on a dataset when given
    /// (<c>dataset_name</c>, <c>dataset_digest</c>), as Python's <c>mlflow.log_metric(..., model_id=, dataset=)</c>:
    /// the point is the run's like any other, and an MLflow 3 server also lists it among the model's metrics (the UI's
    /// Models tab, <see cref="LoggedModelData.Metrics"/>, <c>metrics.&lt;key&gt;</c> in a logged-model search).
    /// </summary>
    /// <param name="key">The metric key.</param>
    /// <param name="value">The value.</param>
    /// <param name="modelId">The logged model's id (<see cref="LoggedModelInfo.ModelId"/>, <c>m-…</c>).</param>
    /// <param name="dataset">The dataset the value was measured on, or <see langword="null"/>. Only its name and digest travel with the point; record the dataset itself with <see cref="LogInput"/>.</param>
    /// <param name="step">The step (0 when <see langword="null"/>).</param>
    /// <param name="timestamp">When it was measured; now (milliseconds) when <see langword="null"/>.</param>
    /// <remarks>A 2.x server keeps the point without the link (it has no logged models). The local store (and a run's
    /// offline copy) keeps the link as MLflow 3.11.1's file store does, in the model's metric file
    /// (<c>models/&lt;model id&gt;/metrics/&lt;key&gt;</c>, a line naming the run); the run's own line stays in MLflow 2's
    /// three-word form, without the dataset, so MLflow 2.x readers still read the run.</remarks>
    /// <exception cref="ArgumentException"><paramref name="modelId"/> is empty.</exception>
    /// <exception cref="MlflowValidationException">The key breaks the key rules of <see cref="ActiveRun"/>, or the timestamp is negative; or, while this run may write to a local store, the model id is not one folder name or the dataset's name or digest is empty or holds white space.</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public void LogMetric(string key, double value, string modelId, MlflowDataset? dataset = null, long? step = null, DateTimeOffset? timestamp = null)
    {
        var link = LinkOf(modelId, dataset, key);
        ValidateKey(key, "metric key");
        _batcher.Enqueue(Buffer, LogEntry.Metric(key, value, TimestampOf(timestamp, key), step ?? 0, link));
    }

    /// <summary>
    /// Logs several metric points with one timestamp, measured on a logged model (and a dataset when given): see
    /// <see cref="LogMetric(string, double, string, MlflowDataset?, long?, DateTimeOffset?)"/>. Valid entries are queued even when one is refused.
    /// </summary>
    /// <param name="metrics">Keys and values.</param>
    /// <param name="modelId">The logged model's id (<c>m-…</c>).</param>
    /// <param name="dataset">The dataset the values were measured on, or <see langword="null"/>.</param>
    /// <param name="step">The step of all of them (0 when <see langword="null"/>).</param>
    /// <exception cref="ArgumentException"><paramref name="modelId"/> is empty.</exception>
    /// <exception cref="MlflowValidationException">A key breaks the key rules of <see cref="ActiveRun"/>; the first such key is reported, the others were queued. Or, while this run may write to a local store, the model id or dataset breaks its rules (see <see cref="LogMetric(string, double, string, MlflowDataset?, long?, DateTimeOffset?)"/>): nothing was queued.</exception>
    public void LogMetrics(IEnumerable<KeyValuePair<string, double>> metrics, string modelId, MlflowDataset? dataset = null, long? step = null)
        => LogMetricsCore(metrics, step, LinkOf(modelId, dataset, null));

    /// <summary>A metric point's time in milliseconds: the one given (not negative), else now.</summary>
    private long TimestampOf(DateTimeOffset? timestamp, string key)
    {
        if (timestamp is not { } t)
        {
            return NowMs();
        }

        var ms = t.ToUnixTimeMilliseconds();
        MlflowValidation.ValidateTimestamp(ms, key);
        return ms;
    }

    /// <summary>
    /// The link of metric points to a logged model (and dataset). While this run may write to a local store (as for
    /// <see cref="ValidateKey"/>), the store's rules for the link are run here, so a link it would refuse at flush is
    /// refused on the caller's thread.
    /// </summary>
    private MetricLink LinkOf(string modelId, MlflowDataset? dataset, string? metricKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelId);
        if (_keysAreFileNames)
        {
            FileStore.LocalFileStore.CheckMetricLink(modelId, dataset?.Name, dataset?.Digest, metricKey);
        }

        return new MetricLink(modelId, dataset?.Name, dataset?.Digest);
    }

    /// <summary>Logs several metric points with one timestamp. Valid entries are queued even when one is refused.</summary>
    /// <param name="metrics">Keys and values.</param>
    /// <param name="step">The step of all of them (0 when <see langword="null"/>).</param>
    /// <exception cref="MlflowValidationException">A key breaks the key rules of <see cref="ActiveRun"/> (MLflow's, and the local store's file names while this run may write to one); the first such key is reported, the others were queued.</exception>
    public void LogMetrics(IEnumerable<KeyValuePair<string, double>> metrics, long? step = null) => LogMetricsCore(metrics, step, null);

    private void LogMetricsCore(IEnumerable<KeyValuePair<string, double>> metrics, long? step, MetricLink? link)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var ts = NowMs();
        MlflowValidationException? first = null;
        foreach (var (key, value) in metrics)
        {
            try
            {
                ValidateKey(key, "metric key");
            }
            catch (MlflowValidationException ex)
            {
                first ??= ex;
                continue;
            }

            _batcher.Enqueue(Buffer, LogEntry.Metric(key, value, ts, step ?? 0, link));
        }

        if (first is not null)
        {
            throw first;
        }
    }

    /// <summary>Logs a param (write-once: the same value again is a no-op, another value is refused).</summary>
    /// <param name="key">The param key.</param>
    /// <param name="value">The value; over-long values follow <see cref="MlflowTrackerOptions.OverlongValuePolicy"/>.</param>
    /// <exception cref="MlflowValidationException">The key breaks the key rules of <see cref="ActiveRun"/> (MLflow's, and the local store's file names while this run may write to one), the value a server rule, or this run already logged the key with another value.</exception>
    /// <remarks>A changed value is refused here, on the caller's thread: the server would refuse it too, a file-backed
    /// one with a 500 that looks like an outage (the value is not in the message: params may be private).</remarks>
    public void LogParam(string key, string value)
    {
        ValidateKey(key, "param key");
        var checkedValue = _tracker.CheckValue(value, MlflowLimits.MaxParamValueLength, key, "param");
        if (!_params.TryAdd(key, checkedValue))
        {
            // Keys are never removed: the value of the first log of this key is there.
            if (!string.Equals(_params[key], checkedValue, StringComparison.Ordinal))
            {
                throw new MlflowValidationException(key, "params are write-once and this run already logged it with another value; log the new value under another key", "param key");
            }

            return; // the same value again: already queued once
        }

        _batcher.Enqueue(Buffer, LogEntry.Param(key, checkedValue));
    }

    /// <inheritdoc cref="LogParam(string, string)"/>
    public void LogParam(string key, int value) => LogParam(key, ValueFormatter.Format(value));

    /// <inheritdoc cref="LogParam(string, string)"/>
    public void LogParam(string key, long value) => LogParam(key, ValueFormatter.Format(value));

    /// <summary>Logs a param as its shortest round-trip text.</summary>
    /// <inheritdoc cref="LogParam(string, string)"/>
    public void LogParam(string key, float value) => LogParam(key, ValueFormatter.Format(value));

    /// <summary>Logs a param as its shortest round-trip text (<c>R</c>).</summary>
    /// <inheritdoc cref="LogParam(string, string)"/>
    public void LogParam(string key, double value) => LogParam(key, ValueFormatter.Format(value));

    /// <inheritdoc cref="LogParam(string, string)"/>
    public void LogParam(string key, decimal value) => LogParam(key, ValueFormatter.Format(value));

    /// <summary>Logs a param as <c>True</c> or <c>False</c>, as Python's <c>str()</c>.</summary>
    /// <inheritdoc cref="LogParam(string, string)"/>
    public void LogParam(string key, bool value) => LogParam(key, ValueFormatter.Format(value));

    /// <summary>Logs a param in the invariant constant format (<c>00:01:30</c>).</summary>
    /// <inheritdoc cref="LogParam(string, string)"/>
    public void LogParam(string key, TimeSpan value) => LogParam(key, ValueFormatter.Format(value));

    /// <summary>Logs several params, formatted as the typed overloads do (<see langword="null"/> as <c>None</c>). Valid entries are queued even when one is refused.</summary>
    /// <param name="params">Keys and values.</param>
    /// <exception cref="MlflowValidationException">A key breaks the key rules of <see cref="ActiveRun"/> (MLflow's, and the local store's file names while this run may write to one), or a value a server rule; the first is reported, the others were queued.</exception>
    public void LogParams(IEnumerable<KeyValuePair<string, object?>> @params)
    {
        ArgumentNullException.ThrowIfNull(@params);
        MlflowValidationException? first = null;
        foreach (var (key, value) in @params)
        {
            try
            {
                LogParam(key, ValueFormatter.Format(value));
            }
            catch (MlflowValidationException ex)
            {
                first ??= ex;
            }
        }

        if (first is not null)
        {
            throw first;
        }
    }

    /// <summary>Sets a run tag (last write wins; <c>mlflow.runName</c> renames the run).</summary>
    /// <param name="key">The tag key.</param>
    /// <param name="value">The value; over-long values follow <see cref="MlflowTrackerOptions.OverlongValuePolicy"/>.</param>
    /// <exception cref="MlflowValidationException">The key breaks the key rules of <see cref="ActiveRun"/> (MLflow's, and the local store's file names while this run may write to one), or the value a server rule.</exception>
    public void SetTag(string key, string value)
    {
        ValidateKey(key, "tag key");
        var checkedValue = _tracker.CheckValue(value, MlflowLimits.MaxTagValueLength, key, "tag");
        _batcher.Enqueue(Buffer, LogEntry.Tag(key, checkedValue));
    }

    /// <summary>Sets several run tags. Valid entries are queued even when one is refused.</summary>
    /// <param name="tags">Keys and values.</param>
    /// <exception cref="MlflowValidationException">A key breaks the key rules of <see cref="ActiveRun"/> (MLflow's, and the local store's file names while this run may write to one), or a value a server rule; the first is reported, the others were queued.</exception>
    public void SetTags(IEnumerable<KeyValuePair<string, string>> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        MlflowValidationException? first = null;
        foreach (var (key, value) in tags)
        {
            try
            {
                SetTag(key, value);
            }
            catch (MlflowValidationException ex)
            {
                first ??= ex;
            }
        }

        if (first is not null)
        {
            throw first;
        }
    }

    /// <summary>Deletes a run tag, in order with the tags set before and after it (a missing tag is reported as rejected).</summary>
    /// <param name="key">The tag key.</param>
    /// <exception cref="MlflowValidationException">The key breaks the key rules of <see cref="ActiveRun"/> (MLflow's, and the local store's file names while this run may write to one).</exception>
    public void DeleteTag(string key)
    {
        ValidateKey(key, "tag key");
        _batcher.Enqueue(Buffer, LogEntry.DeleteTag(key));
    }
}
