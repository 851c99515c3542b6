using System.Net;

namespace Mlflow.Client;

/// <summary>
/// Decides which points of a sent-but-unacknowledged range are still missing on the server, from the server's history
/// of the key. Points compare by (timestamp, step, value) as a multiset; values are normalised the way servers store
/// them (±Infinity as ±double.MaxValue on SQL stores, one NaN, no negative zero). Shared by <c>mlflow-sync</c> (ranges
/// of its journal) and <see cref="MlflowClient.LogBatchExactlyOnceAsync"/> (one batch whose answer was lost).
/// </summary>
internal static class MetricReconciler
{
    /// <summary>The comparable identity of a point.</summary>
    internal readonly record struct PointKey(long Timestamp, long Step, long ValueBits)
    {
        public static PointKey Of(Metric m) => new(m.Timestamp, m.Step, Normalize(m.Value));

        private static long Normalize(double v)
        {
            if (double.IsNaN(v))
            {
                return BitConverter.DoubleToInt64Bits(double.NaN);
            }

            if (double.IsPositiveInfinity(v))
            {
                v = double.MaxValue;
            }
            else if (double.IsNegativeInfinity(v))
            {
                v = double.MinValue;
            }
            else if (v == 0)
            {
                v = 0; // -0.0 and 0.0 are one point
            }

            return BitConverter.DoubleToInt64Bits(v);
        }
    }

    /// <summary>
    /// The points of <paramref name="local"/>[<paramref name="from"/>..<paramref name="to"/>) the server does not hold yet.
    /// Points before <paramref name="from"/> are acknowledged and expected on the server.
    /// </summary>
    /// <param name="local">Every local point of the key, in file order.</param>
    /// <param name="from">Start of the unacknowledged range.</param>
    /// <param name="to">End of the unacknowledged range (exclusive).</param>
    /// <param name="server">The server's whole history of the key.</param>
    /// <param name="deduplicating">
    /// Whether the server keeps one copy of identical points (SQL stores). Then a point counts as present when the
    /// server has it once, and each missing point is sent once: a SQL store refuses an identical NaN point with 400.
    /// Detected here too: an acknowledged point the server holds fewer times than sent.
    /// </param>
    public static List<Metric> Missing(IReadOnlyList<Metric> local, int from, int to, IReadOnlyList<Metric> server, bool deduplicating)
    {
        var onServer = new Dictionary<PointKey, int>();
        HashSet<(long Timestamp, long ValueBits)>? stepLost = null;
        foreach (var m in server)
        {
            var k = PointKey.Of(m);
            onServer[k] = onServer.GetValueOrDefault(k) + 1;
            if (m.DatasetName is not null && m.Step == 0)
            {
                (stepLost ??= []).Add((k.Timestamp, k.ValueBits));
            }
        }

        // MLflow 3.11.1's file store writes a point with a dataset as "ts value step name digest" and reads that line
        // back with step 0 (its _get_metric_from_line takes the step from three-word lines only): such a server point
        // stands for the local point of its timestamp and value at whatever step, when the server has none at that step.
        PointKey KeyOf(Metric m)
        {
            var k = PointKey.Of(m);
            return stepLost is not null && k.Step != 0 && !onServer.ContainsKey(k) && stepLost.Contains((k.Timestamp, k.ValueBits)) ? k with { Step = 0 } : k;
        }

        var acknowledged = new Dictionary<PointKey, int>();
        for (var i = 0; i < from; i++)
        {
            var k = KeyOf(local[i]);
            acknowledged[k] = acknowledged.GetValueOrDefault(k) + 1;
        }

        if (!deduplicating)
        {
            foreach (var (k, count) in acknowledged)
            {
                var have = onServer.GetValueOrDefault(k);
                if (have >= 1 && have < count)
                {
                    deduplicating = true; // copies we know were stored have collapsed
                    break;
                }
            }
        }

        var missing = new List<Metric>();
        if (deduplicating)
        {
            var queued = new HashSet<PointKey>();
            for (var i = from; i < to; i++)
            {
                var k = KeyOf(local[i]);
                if (!onServer.ContainsKey(k) && queued.Add(k))
                {
                    missing.Add(local[i]);
                }
            }

            return missing;
        }

        // Appending server: copies of a point beyond the acknowledged ones are ours from the unanswered send.
        var extra = new Dictionary<PointKey, int>();
        foreach (var (k, have) in onServer)
        {
            var surplus = have - acknowledged.GetValueOrDefault(k);
            if (surplus > 0)
            {
                extra[k] = surplus;
            }
        }

        for (var i = from; i < to; i++)
        {
            var k = KeyOf(local[i]);
            if (extra.TryGetValue(k, out var n) && n > 0)
            {
                extra[k] = n - 1;
            }
            else
            {
                missing.Add(local[i]);
            }
        }

        return missing;
    }

    /// <summary>
    /// A SQL store's answer to a NaN point it already holds (an integrity error surfaced as 400 BAD_REQUEST): after a
    /// lost answer, the sign that the server deduplicates and the point is there.
    /// </summary>
    internal static bool IsDuplicateNanRefusal(MlflowException ex)
        => ex.StatusCode == HttpStatusCode.BadRequest && ex.ErrorCode == MlflowErrorCode.BadRequest;
}
