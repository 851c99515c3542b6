using System.Diagnostics;
using System.Text.RegularExpressions;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

#if NET10_0_OR_GREATER // run once per test run, by the net10.0 test host
namespace Mlflow.Client.Tests.Packaging;

/// <summary>
/// A clone of a local path (what <c>.ci/run</c> makes; its <c>origin</c> is a folder, not a URL) and a repository with no
/// remote pack and build without SourceLink's warnings: SourceLink is on only where <c>origin</c> is a hosted URL.
/// </summary>
[TestFixture]
[Category("Packaging")]
[NonParallelizable]
public sealed class SourceLinkCloneTests
{
    private static readonly Regex SourceLinkWarning = new(
        "warning[^\\n]*(URL of repository remote '[^']*' is invalid|has no remote|Source control information is not available)", RegexOptions.Compiled);

    [Test]
    public async Task A_clone_of_a_local_path_and_a_repository_without_remote_pack_without_source_link_warnings()
    {
        if (!Directory.Exists(Path.Combine(RepoPaths.RepoRoot, ".git")) && !File.Exists(Path.Combine(RepoPaths.RepoRoot, ".git")))
        {
            Assert.Ignore("Not a git checkout: there is nothing to clone.");
        }

        var work = Directory.CreateTempSubdirectory("mlflow-sourcelink-").FullName;
        try
        {
            var clone = Path.Combine(work, "app");
            Git(work, "clone", "--quiet", "--no-hardlinks", RepoPaths.RepoRoot, clone);
            var library = Path.Combine("src", "Mlflow.Client", "Mlflow.Client.csproj");
            var evaluation = Path.Combine("src", "Mlflow.Client.Evaluation", "Mlflow.Client.Evaluation.csproj");

            foreach (var project in new[] { library, evaluation })
            {
                var packed = await PackedPackageTests.RunAsync(clone, null, "pack", project, "-c", "Release", "-o", Path.Combine(work, "feed"), "-p:Version=0.0.0-sourcelink");
                Assert.That(SourceLinkWarning.Matches(packed).Select(m => m.Value).Distinct(), Is.Empty, "packing a clone of a local path: " + project);
            }

            Assert.That(Directory.GetFiles(Path.Combine(work, "feed"), "*.snupkg").Select(Path.GetFileName), Is.EquivalentTo(new[] { "Mlflow.Client.0.0.0-sourcelink.snupkg", "Mlflow.Client.Evaluation.0.0.0-sourcelink.snupkg" }),
                "the symbols packages are still made");

            Git(clone, "remote", "remove", "origin");
            var built = await PackedPackageTests.RunAsync(clone, null, "build", evaluation, "-c", "Release", "-f", "net10.0", "--no-incremental");
            Assert.That(SourceLinkWarning.Matches(built).Select(m => m.Value).Distinct(), Is.Empty, "building a repository with no remote (the evaluation package and the core it references)");
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // a build server may still hold a file; the temp folder is cleaned by the OS
            }
        }
    }

    private static void Git(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var git = Process.Start(start)!;
        var stderr = git.StandardError.ReadToEndAsync();
        _ = git.StandardOutput.ReadToEndAsync();
        if (!git.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            git.Kill(entireProcessTree: true);
            Assert.Fail($"git {string.Join(' ', args)} did not end");
        }

        Assert.That(git.ExitCode, Is.Zero, $"git {string.Join(' ', args)}: {stderr.Result}");
    }
}
#endif
