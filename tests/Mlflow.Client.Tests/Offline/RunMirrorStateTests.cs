using Mlflow.Client.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>The state machine of a run's local copy: every change goes through <see cref="RunMirror.Apply"/>, under the gate.</summary>
[TestFixture]
public class RunMirrorStateTests
{
    private static RunMirror Copy(bool localOnly = false) => new("key", localOnly ? null : "server-run", localOnly);

    private static MirrorMode Apply(RunMirror mirror, MirrorEvent change, long retryAt = 0, long generationRead = 0)
    {
        mirror.Gate.Wait();
        try
        {
            return mirror.Apply(change, retryAt, generationRead);
        }
        finally
        {
            mirror.Gate.Release();
        }
    }

    [Test]
    public void A_copy_of_a_server_run_starts_direct_and_clean_a_run_started_offline_starts_offline_and_dirty()
    {
        var server = Copy();
        Assert.That((server.Mode, server.Active, server.Dirty, server.Generation), Is.EqualTo((MirrorMode.Direct, false, false, 0L)));
        var local = Copy(localOnly: true);
        Assert.That((local.Mode, local.Active, local.ServerDown, local.Dirty, local.Generation), Is.EqualTo((MirrorMode.Offline, true, true, true, 1L)));
    }

    [Test]
    public void Server_down_then_a_write_then_a_drain_that_read_everything_goes_back_to_direct()
    {
        var mirror = Copy();
        Assert.That(Apply(mirror, MirrorEvent.ServerDown), Is.EqualTo(MirrorMode.Direct));
        Apply(mirror, MirrorEvent.Written);
        Assert.That((mirror.Mode, mirror.Dirty, mirror.Generation), Is.EqualTo((MirrorMode.Offline, true, 1L)));

        Assert.That(Apply(mirror, MirrorEvent.Drained, generationRead: 1), Is.EqualTo(MirrorMode.Offline), "the mode before: the caller logs 'back online'");
        Assert.That((mirror.Mode, mirror.Dirty), Is.EqualTo((MirrorMode.Direct, false)));
    }

    [Test]
    public void A_write_during_the_drain_keeps_the_copy_dirty_and_due_at_once_while_the_server_is_back()
    {
        var mirror = Copy();
        Apply(mirror, MirrorEvent.ServerDown);
        Apply(mirror, MirrorEvent.Written);
        var read = mirror.Generation;
        Apply(mirror, MirrorEvent.DrainUnreachable, retryAt: 500);
        Assert.That(mirror.NextAttempt, Is.EqualTo(500));
        Apply(mirror, MirrorEvent.Written); // while the drain ran

        Apply(mirror, MirrorEvent.Drained, generationRead: read);
        Assert.That((mirror.Mode, mirror.Dirty, mirror.NextAttempt), Is.EqualTo((MirrorMode.Local, true, 0L)), "entries still go to the copy, after what it holds");
    }

    [Test]
    public void A_run_started_offline_never_goes_direct()
    {
        var mirror = Copy(localOnly: true);
        Apply(mirror, MirrorEvent.Drained, generationRead: mirror.Generation);
        Assert.That((mirror.Mode, mirror.Active, mirror.ServerDown, mirror.Dirty), Is.EqualTo((MirrorMode.Local, true, false, false)));
    }

    [Test]
    public void Spilling_sends_entries_to_the_copy_with_the_drain_due_now_and_a_later_failure_marks_the_server_down()
    {
        var mirror = Copy();
        Apply(mirror, MirrorEvent.ServerDown);
        Apply(mirror, MirrorEvent.DrainUnreachable, retryAt: 900);
        Apply(mirror, MirrorEvent.Spilled);
        Assert.That((mirror.Mode, mirror.NextAttempt), Is.EqualTo((MirrorMode.Local, 0L)));

        Apply(mirror, MirrorEvent.ServerDown);
        Assert.That(mirror.Mode, Is.EqualTo(MirrorMode.Local), "already writing to the copy: a failed send does not change where entries go");
        Apply(mirror, MirrorEvent.DrainUnreachable, retryAt: 1200);
        Assert.That((mirror.Mode, mirror.NextAttempt), Is.EqualTo((MirrorMode.Offline, 1200L)));
        Apply(mirror, MirrorEvent.DrainRefused, retryAt: 1500);
        Assert.That((mirror.Mode, mirror.NextAttempt), Is.EqualTo((MirrorMode.Local, 1500L)), "the server answered (it refused part of the copy)");
    }

    [Test]
    public void Drain_failures_of_a_direct_copy_do_not_switch_it_to_the_copy()
    {
        var mirror = Copy();
        Apply(mirror, MirrorEvent.DrainUnreachable, retryAt: 10);
        Apply(mirror, MirrorEvent.DrainRefused, retryAt: 20);
        Apply(mirror, MirrorEvent.DrainCrashed, retryAt: 30);
        Assert.That((mirror.Mode, mirror.NextAttempt), Is.EqualTo((MirrorMode.Direct, 30L)));
    }

    [Test]
    public void The_status_sent_directly_after_a_refused_drain_leaves_the_copy_clean()
    {
        var mirror = Copy();
        Apply(mirror, MirrorEvent.ServerDown);
        Apply(mirror, MirrorEvent.Written);
        Apply(mirror, MirrorEvent.EndedOnServer);
        Assert.That(mirror.Dirty, Is.False);
    }

    [Test]
    public void The_server_run_id_of_a_copy_is_set_once()
    {
        var mirror = Copy(localOnly: true);
        mirror.ServerRunId = "first";
        mirror.ServerRunId = "second";
        Assert.That(mirror.ServerRunId, Is.EqualTo("first"));
    }
}
