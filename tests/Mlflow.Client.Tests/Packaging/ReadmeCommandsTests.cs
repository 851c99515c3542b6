using System.Text.RegularExpressions;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

#if NET10_0_OR_GREATER // run once per test run, by the net10.0 test host
namespace Mlflow.Client.Tests.Packaging;

/// <summary>
/// Every <c>dotnet ...</c> command the README shows (in <c>bash</c> blocks and inline code) runs as written, or is skipped
/// by a rule that says why (it needs a server, installs from the public feed, runs until stopped, is run by another
/// test). A command no rule covers fails the test, so a new one gets a check.
/// </summary>
[TestFixture]
[Category("Packaging")]
[NonParallelizable]
public sealed class ReadmeCommandsTests
{
    /// <summary>How each README command is checked: the first rule whose pattern matches.</summary>
    private static readonly (Regex Pattern, string? Skip, Func<string, string[]>? Run)[] Rules =
    [
        (new(@"^dotnet run -f net10\.0 --project src/Mlflow\.Client\.Sync -- --from "), null,
            // --to needs a tracking server: the same project and options run with --help, which prints the usage and exits 0.
            command => [.. Words(command[..command.IndexOf(" -- ", StringComparison.Ordinal)]), "--", "--help"]),
        (new(@"^dotnet run --project samples/QuickStart$"), null, Words),
        (new(@"^dotnet run --project samples/<Name>$"), "a pattern for the sample commands below, not a command", null),
        (new(@"^dotnet run --project samples/(ModelEvaluation|HyperparameterSweep)$"), "ML.NET training for minutes; SamplesTests runs the sample", null),
        (new(@"^dotnet run --project samples/EvaluationGate( -- .*)?$"), "needs the champion that ModelEvaluation registers; SamplesTests runs it after ModelEvaluation", null),
        (new(@"^dotnet run --project samples/OfflineThenSync -- --sync-to "), "needs a tracking server on port 5381; SamplesTests runs the sample without one", null),
        (new(@"^dotnet run --project samples/HostedWorker$"), "runs until Ctrl+C; the hosting tests run the sample and stop it", null),
        (new(@"^dotnet run -c Release --project tests/Mlflow\.Client\.Benchmarks "), "a benchmark: minutes of CPU (one needs a tracking server)", null),
        (new(@"^dotnet test\b"), "the test suite itself (the RealServer one needs a tracking server)", null),
        (new(@"^dotnet (new nugetconfig|nuget add source \.\./Mlflow\.Client/nupkgs .*|add package Mlflow\.Client(\.Evaluation)? --prerelease)$"), "installs into a project of the reader's; PackagedInstallTests runs these commands in a fresh folder with an empty package cache", null),
        (new(@"^dotnet pack -c Release -o \./nupkgs$"), "packs every project for minutes; PackedPackageTests and SourceLinkCloneTests pack the library and the evaluation package", null),
        (new(@"^dotnet add package Mlflow\.Client[\w.]*$"), "installs from nuget.org, where the packages appear with a release", null),
        (new(@"^dotnet tool install -g Mlflow\.Client\.Sync$"), "installs a global tool from nuget.org, where it appears with a release", null),
        (new(@"^dotnet add package Microsoft\.ML\.Tokenizers"), "adds a third-party package to the reader's own project", null),
    ];

    [Test]
    public async Task Every_dotnet_command_of_the_readme_runs_as_written_or_says_why_not()
    {
        var commands = ReadmeCommands();
        Assert.That(commands, Has.Count.GreaterThan(10), "the premise: the README's commands were found");
        var store = Directory.CreateTempSubdirectory("mlflow-readme-").FullName;
        try
        {
            foreach (var command in commands)
            {
                var rule = Rules.FirstOrDefault(r => r.Pattern.IsMatch(command));
                Assert.That(rule.Pattern, Is.Not.Null, $"no rule checks the README command: {command}");
                if (rule.Run is null)
                {
                    TestContext.Out.WriteLine($"skipped: {command} ({rule.Skip})");
                    continue;
                }

                var args = rule.Run(command);
                TestContext.Out.WriteLine("running: " + string.Join(' ', args));
                // Run from the repository root, as the README says; a sample's ./mlruns goes to a temporary folder instead.
                var output = await PackedPackageTests.RunAsync(RepoPaths.RepoRoot, new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = store }, args[1..]);
                Assert.That(output, Does.Not.Contain("Specify which framework"), command);
            }
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    /// <summary>The <c>dotnet</c> commands of the README's <c>bash</c> blocks (comments and leading variables left out) and inline code.</summary>
    internal static List<string> ReadmeCommands()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "README.md"));
        var commands = new List<string>();
        foreach (Match block in Regex.Matches(readme, "```bash\\n(.*?)```", RegexOptions.Singleline))
        {
            var text = block.Groups[1].Value.Replace("\\\n", " ", StringComparison.Ordinal);
            foreach (var line in text.Split('\n'))
            {
                var code = line.Split(" #")[0].Trim();
                var at = Regex.Match(code, @"(^|\s)dotnet\s");
                if (!code.StartsWith('#') && at.Success)
                {
                    commands.Add(Normalize(code[at.Index..]));
                }
            }
        }

        var outsideBlocks = Regex.Replace(readme, "```.*?```", "", RegexOptions.Singleline);
        commands.AddRange(Regex.Matches(outsideBlocks, "`(dotnet [^`]+)`").Select(m => Normalize(m.Groups[1].Value)));
        return commands.Distinct().ToList();
    }

    private static string Normalize(string command) => Regex.Replace(command.Trim(), @"\s+", " ");

    private static string[] Words(string command) => command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
#endif
