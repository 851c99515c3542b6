using System.Globalization;
using System.Text.RegularExpressions;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

#if NET10_0_OR_GREATER // packed and installed once per test run, by the net10.0 test host
namespace Mlflow.Client.Tests.Packaging;

/// <summary>
/// The README's install from a checkout, run as written in a fresh folder with an empty package cache (issue 21 items 1
/// and 2): the packed folder is added as a second source, nuget.org stays (Refit, Polly and Microsoft.Extensions come
/// from it; needs the network), and a local pack has a version of its own, <c>0.1.0-dev.&lt;UTC time of the newest
/// source&gt;</c>, so a cache holding an older build of the same number cannot be used silently. The evaluation package
/// installs beside the core from the same pack (issue 20).
/// </summary>
[TestFixture]
[Category("Packaging")]
[NonParallelizable]
public sealed class PackagedInstallTests
{
    private const string ConsumerProgram = """
        using Mlflow.Client;
        using Mlflow.Client.Comparison;

        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = Environment.GetEnvironmentVariable("INSTALLTEST_STORE"), ExperimentName = "installed" });
        await using (var run = tracker.StartRun("from-the-readme-install"))
        {
            run.LogMetric("accuracy", 0.5);
            Console.WriteLine($"logged run {run.RunId}");
        }

        Console.WriteLine($"searched {tracker.SearchRuns(new RunQuery()).Rows.Single().RunName}");
        """;

    /// <summary>The packages the README's install adds: the core and the evaluation package.</summary>
    private static readonly string[] Packages = ["Mlflow.Client", "Mlflow.Client.Evaluation"];

    /// <summary>The commands of the README's bash block after the <c>install-from-checkout</c> marker, comments left out.</summary>
    internal static List<string> InstallCommands()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "README.md"));
        var block = Regex.Match(readme, "<!-- install-from-checkout -->\\s*```bash\\n(.*?)```", RegexOptions.Singleline);
        Assert.That(block.Success, "the README marks its install commands with <!-- install-from-checkout -->");
        return block.Groups[1].Value.Split('\n').Select(l => l.Split(" #")[0].Trim()).Where(l => l.Length > 0).ToList();
    }

    /// <summary>The version a local pack gets: the newest UTC write time of what the packages are made of.</summary>
    private static string ExpectedDevVersion()
    {
        var root = RepoPaths.RepoRoot;
        var bin = Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar;
        var obj = Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar;
        var src = Path.Combine(root, "src");
        var files = Directory.GetFiles(src, "*", SearchOption.AllDirectories)
            .Where(f => !f[src.Length..].Contains(bin, StringComparison.Ordinal) && !f[src.Length..].Contains(obj, StringComparison.Ordinal))
            .Concat(new[] { "Directory.Build.props", "Directory.Packages.props", "README.md", "THIRD-PARTY-NOTICES.md" }.Select(f => Path.Combine(root, f)));
        var newest = files.Max(File.GetLastWriteTimeUtc);
        return "0.1.0-dev." + newest.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
    }

    [Test]
    public async Task The_readme_install_keeps_nuget_org_and_installs_the_newest_local_pack_with_an_empty_package_cache()
    {
        var commands = InstallCommands();
        Assert.That(commands, Has.Count.EqualTo(4), string.Join('\n', commands));
        var work = Directory.CreateTempSubdirectory("mlflow-installtest-").FullName;
        try
        {
            // The checkout beside the application, as the README's ../Mlflow.Client; packed with no version given.
            var feed = Path.Combine(work, "Mlflow.Client", "nupkgs");
            var expected = ExpectedDevVersion();
            foreach (var package in Packages)
            {
                await PackedPackageTests.RunAsync(RepoPaths.RepoRoot, null, "pack", Path.Combine(RepoPaths.RepoRoot, "src", package, package + ".csproj"), "-c", "Release", "-o", feed);
            }

            var packed = Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.That(packed, Is.EqualTo(Packages.Select(p => $"{p}.{expected}.nupkg")), "a local pack is 0.1.0-dev.<UTC time of the newest source>, the same for each package");

            var app = Path.Combine(work, "my-app");
            Directory.CreateDirectory(app);
            // Stop MSBuild's upward search for Directory.*.props (a temp folder may sit under anything).
            foreach (var blocker in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            {
                await File.WriteAllTextAsync(Path.Combine(work, blocker), "<Project />");
            }

            var fresh = new Dictionary<string, string>
            {
                ["NUGET_PACKAGES"] = Path.Combine(work, "packages"), // empty: every package comes from a source
                ["NUGET_HTTP_CACHE_PATH"] = Path.Combine(work, "http-cache"),
                ["INSTALLTEST_STORE"] = Path.Combine(work, "mlruns"),
            };
            await PackedPackageTests.RunAsync(app, fresh, "new", "console", "--no-restore");
            foreach (var command in commands)
            {
                var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.That(words[0], Is.EqualTo("dotnet"), command);
                TestContext.Out.WriteLine("running: " + command);
                await PackedPackageTests.RunAsync(app, fresh, words[1..]);
            }

            var config = await File.ReadAllTextAsync(Path.Combine(app, "nuget.config"));
            Assert.That(config, Does.Contain("https://api.nuget.org/v3/index.json").And.Contain("Mlflow.Client/nupkgs"), "both sources");
            var project = await File.ReadAllTextAsync(Path.Combine(app, "my-app.csproj"));
            foreach (var package in Packages)
            {
                Assert.That(project, Does.Contain($"Include=\"{package}\" Version=\"{expected}\""), "the local pack, not another version");
            }

            Assert.That(Directory.Exists(Path.Combine(work, "packages", "refit")), "Refit came from nuget.org into the empty cache");

            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ConsumerProgram);
            var output = await PackedPackageTests.RunAsync(app, fresh, "run");
            Assert.That(output, Does.Contain("logged run ").And.Contain("searched from-the-readme-install"), "the tracker's search of the evaluation package");
            Assert.That(Directory.GetFiles(Path.Combine(work, "mlruns"), "accuracy", SearchOption.AllDirectories), Has.Length.EqualTo(1), output);
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
}
#endif
