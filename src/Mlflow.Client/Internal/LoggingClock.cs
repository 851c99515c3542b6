namespace Mlflow.Client;

/// <summary>
/// Wall-clock milliseconds for log calls, read in a few nanoseconds: the kernel's coarse monotonic tick count
/// (<see cref="Environment.TickCount64"/>, 1 to 4 ms resolution) plus its offset to the wall clock, measured again at
/// most once a second. Reading the wall clock itself costs 30 to 50 ns on the virtual machines training runs on,
/// which is a third of the whole budget of a <c>LogMetric</c> call.
/// </summary>
internal static class LoggingClock
{
    private const long CalibrationIntervalMs = 1000;
    private static long s_offset;
    private static long s_calibratedAt = long.MinValue / 2;

    /// <summary>Milliseconds since the Unix epoch, within the coarse clock's resolution of the wall clock.</summary>
    public static long NowMs()
    {
        var tick = Environment.TickCount64;
        if (tick - Volatile.Read(ref s_calibratedAt) >= CalibrationIntervalMs)
        {
            Calibrate(tick);
        }

        return tick + Volatile.Read(ref s_offset);
    }

    /// <summary>Milliseconds since the Unix epoch from the wall clock itself (1 ms resolution).</summary>
    public static long PreciseNowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static void Calibrate(long tick)
    {
        // Several threads may calibrate at once: each writes a correct offset, so the race is harmless.
        Volatile.Write(ref s_offset, PreciseNowMs() - tick);
        Volatile.Write(ref s_calibratedAt, tick);
    }
}
