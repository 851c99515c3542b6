using System.Diagnostics;
using System.IO.Compression;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

#if NET10_0_OR_GREATER // packed and installed once per test run, by the net10.0 test host
namespace Mlflow.Client.Tests.Packaging;

/// <summary>
/// Packs the library and the evaluation package, installs both <c>.nupkg</c> from a local folder into a fresh console
/// project (package references, no project reference) and runs it against the local store and a fake server on
/// loopback: a packaging mistake (a missing dependency, an asset in the wrong folder, an internal type the public API
/// needs, a core internal the evaluation package reads that its build cannot see) fails here.
/// </summary>
[TestFixture]
[Category("Packaging")]
[NonParallelizable]
public sealed class PackedPackageTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(15);

    /// <summary>The packages packed and installed: the core and the evaluation package beside it.</summary>
    private static readonly string[] Packages = ["Mlflow.Client", "Mlflow.Client.Evaluation"];

    private const string ConsumerProgram = """
        using System.Globalization;
        using Mlflow.Client;
        using Mlflow.Client.Comparison;
        using Mlflow.Client.Evaluation;

        var storeDir = Environment.GetEnvironmentVariable("PACKTEST_STORE")!;
        var serverUrl = Environment.GetEnvironmentVariable("PACKTEST_SERVER")!;
        foreach (var uri in new[] { storeDir, serverUrl })
        {
            await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = "packaged" });
            await using (var run = await tracker.StartRunAsync("from-the-package"))
            {
                run.LogParam("source", "nupkg");
                run.LogMetric("accuracy", 0.75, step: 2);
                var evaluation = Evaluator.EvaluateClassifier(new[] { "a", "b", "a", "b" }, new[] { "a", "b", "b", "b" });
                if (uri == storeDir)
                {
                    run.LogEvaluation(evaluation); // the metrics and the table files
                }
                else
                {
                    run.LogMetrics(evaluation.Metrics);
                }

                Console.WriteLine($"run {run.RunId} on {tracker.Destination}");
            }

            // The tracker's comparison (an extension method of the evaluation package over the tracker's own store).
            foreach (var row in tracker.SearchRuns(new RunQuery()).Rows)
            {
                var accuracy = row.Metrics.TryGetValue("accuracy_score", out var value) ? value.ToString(CultureInfo.InvariantCulture) : "none";
                Console.WriteLine($"found {row.RunId} accuracy_score={accuracy}");
            }
        }
        """;

    [Test]
    public async Task The_packed_library_installs_from_a_folder_and_logs_to_a_local_store_and_a_server()
    {
        var work = Directory.CreateTempSubdirectory("mlflow-packtest-").FullName;
        try
        {
            var feed = Path.Combine(work, "feed");
            var version = "0.0.0-packtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
            foreach (var package in Packages)
            {
                var project = Path.Combine(RepoPaths.RepoRoot, "src", package, package + ".csproj");
                await RunAsync(RepoPaths.RepoRoot, null, "pack", project, "-c", "Release", "-o", feed, "-p:Version=" + version);
                AssertPackageContents(feed, package, version);
            }

            AssertEvaluationDependsOnTheCoreOfItsPack(feed, version);

            var app = Path.Combine(work, "consumer");
            Directory.CreateDirectory(app);
            // Stop MSBuild's upward search for Directory.*.props (a temp folder may sit under anything).
            await File.WriteAllTextAsync(Path.Combine(app, "Directory.Build.props"), "<Project />");
            await File.WriteAllTextAsync(Path.Combine(app, "Directory.Packages.props"), "<Project />");
            await File.WriteAllTextAsync(Path.Combine(app, "Directory.Build.targets"), "<Project />");
            await File.WriteAllTextAsync(Path.Combine(app, "consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <RestoreAdditionalProjectSources>{feed}</RestoreAdditionalProjectSources>
                    <RestorePackagesPath>{Path.Combine(work, "packages")}</RestorePackagesPath>
                    <RestoreAdditionalProjectFallbackFolders>{GlobalPackagesFolder()}</RestoreAdditionalProjectFallbackFolders>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Mlflow.Client" Version="{version}" />
                    <PackageReference Include="Mlflow.Client.Evaluation" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ConsumerProgram);

            using var server = new FakeMlflowServer();
            var store = Path.Combine(work, "mlruns");
            var output = await RunAsync(app, new Dictionary<string, string> { ["PACKTEST_STORE"] = store, ["PACKTEST_SERVER"] = server.Url }, "run", "--project", app);

            // The local store: one run of experiment "packaged" with the param and the metric, in MLflow's layout.
            var metricFiles = Directory.GetFiles(store, "accuracy", SearchOption.AllDirectories);
            Assert.That(metricFiles, Has.Length.EqualTo(1), output);
            Assert.That((await File.ReadAllTextAsync(metricFiles[0])).Trim(), Does.EndWith(" 0.75 2"));
            var runDir = Path.GetDirectoryName(Path.GetDirectoryName(metricFiles[0]))!;
            var paramFile = Path.Combine(runDir, "params", "source");
            Assert.That(await File.ReadAllTextAsync(paramFile), Is.EqualTo("nupkg"));
            // The evaluation package: accuracy_score 3 of 4 under mlflow.evaluate's name, the table files, and the
            // tracker's search reading it back.
            Assert.That((await File.ReadAllTextAsync(Path.Combine(runDir, "metrics", "accuracy_score"))).Trim(), Does.EndWith(" 0.75 0"));
            Assert.That(File.Exists(Path.Combine(runDir, "artifacts", "eval_results_table.json")), Is.True, output);
            Assert.That(File.Exists(Path.Combine(runDir, "artifacts", "confusion_matrix.json")), Is.True, output);
            Assert.That(output, Does.Contain($"found {Path.GetFileName(runDir)} accuracy_score=0.75"));

            // The server: the same run, ended.
            var run = server.SingleRun();
            Assert.That(run.Params["source"], Is.EqualTo("nupkg"));
            Assert.That(run.Metrics["accuracy"].Single().Value, Is.EqualTo(0.75));
            Assert.That(run.Status, Is.EqualTo("FINISHED"));
            Assert.That(output, Does.Contain("run " + run.RunId));
            Assert.That(run.Metrics["accuracy_score"].Single().Value, Is.EqualTo(0.75));
            Assert.That(server.Count("runs/search"), Is.GreaterThanOrEqualTo(1), "the tracker's search went to the server");
            Assert.That(output, Does.Contain($"found {run.RunId} "));
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

    /// <summary>The package, its symbols, the README and the licence (and the evaluation package's third-party notices), the assembly and its XML docs for both frameworks.</summary>
    private static void AssertPackageContents(string feed, string package, string version)
    {
        var nupkg = Path.Combine(feed, $"{package}.{version}.nupkg");
        var snupkg = Path.Combine(feed, $"{package}.{version}.snupkg");
        Assert.That(File.Exists(nupkg), Is.True, "the package " + package);
        Assert.That(File.Exists(snupkg), Is.True, "the symbols package of " + package);
        using (var zip = ZipFile.OpenRead(nupkg))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            Assert.That(entries, Does.Contain("README.md"), package);
            if (package == "Mlflow.Client.Evaluation")
            {
                // it embeds Pyphen's hyph_en_US.dic (Readability's syllables): its licence travels with it
                Assert.That(entries, Does.Contain("THIRD-PARTY-NOTICES.md"), package);
            }

            foreach (var framework in new[] { "net8.0", "net10.0" })
            {
                Assert.That(entries, Does.Contain($"lib/{framework}/{package}.dll").And.Contain($"lib/{framework}/{package}.xml"), package);
            }

            var nuspec = NuspecText(zip, package);
            Assert.That(nuspec, Does.Contain("<license type=\"expression\">MIT</license>").And.Contain("<readme>README.md</readme>"), package);
            Assert.That(nuspec, Does.Contain("<repository type=\"git\""), package);
        }

        using var symbols = ZipFile.OpenRead(snupkg);
        Assert.That(symbols.Entries.Select(e => e.FullName), Does.Contain($"lib/net8.0/{package}.pdb").And.Contain($"lib/net10.0/{package}.pdb"), package);
    }

    /// <summary>
    /// The evaluation package depends on the core of the same pack, on the Microsoft.Extensions.AI abstractions (the LLM
    /// judges' IChatClient) and on OpenTelemetry's SDK (its trace exporter): 1.21 for net10.0, 1.20.1 for net8.0 (1.21 has
    /// no net8.0 build and would bring Microsoft.Extensions.* 11 there).
    /// </summary>
    private static void AssertEvaluationDependsOnTheCoreOfItsPack(string feed, string version)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(feed, $"Mlflow.Client.Evaluation.{version}.nupkg"));
        var nuspec = System.Xml.Linq.XDocument.Parse(NuspecText(zip, "Mlflow.Client.Evaluation"));
        var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")! + " " + (string)e.Attribute("version")!).ToList();
        Assert.That(dependencies, Is.EquivalentTo(new[]
        {
            $"Mlflow.Client {version}", "Microsoft.Extensions.AI.Abstractions 11.0.0", "OpenTelemetry 1.20.1",
            $"Mlflow.Client {version}", "Microsoft.Extensions.AI.Abstractions 11.0.0", "OpenTelemetry 1.21.0",
        }), "one group per framework: the core, the IChatClient abstractions and OpenTelemetry");
    }

    private static string NuspecText(ZipArchive zip, string package)
    {
        using var reader = new StreamReader(zip.GetEntry(package + ".nuspec")!.Open());
        return reader.ReadToEnd();
    }

    private static string GlobalPackagesFolder()
        => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    internal static async Task<string> RunAsync(string workingDirectory, Dictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1"; // no build server left running after the test
        start.Environment.Remove("MLFLOW_TRACKING_URI");
        foreach (var (key, value) in environment ?? [])
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StepTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', args)} took more than {StepTimeout}");
        }

        var output = await stdout + await stderr;
        Assert.That(process.ExitCode, Is.Zero, $"dotnet {string.Join(' ', args)} failed:\n{output}");
        return output;
    }
}
#endif
