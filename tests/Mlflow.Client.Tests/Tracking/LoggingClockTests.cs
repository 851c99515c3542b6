using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracking;

[TestFixture]
public class LoggingClockTests
{
    [Test]
    public void CoarseClock_StaysWithinItsResolutionOfTheWallClock_AndDoesNotRunBackwardsWithinASecond()
    {
        var previous = LoggingClock.NowMs();
        var deadline = DateTime.UtcNow.AddMilliseconds(300);
        var samples = 0;
        while (DateTime.UtcNow < deadline && samples < 5_000_000)
        {
            var before = LoggingClock.PreciseNowMs();
            var coarse = LoggingClock.NowMs();
            var after = LoggingClock.PreciseNowMs();
            // The kernel's coarse tick is at most a few ms behind; allow 20 ms for a loaded machine.
            Assert.That(coarse, Is.InRange(before - 20, after + 20));
            Assert.That(coarse, Is.GreaterThanOrEqualTo(previous - 20));
            previous = coarse;
            samples++;
        }

        Assert.That(samples, Is.GreaterThan(100));
    }
}
