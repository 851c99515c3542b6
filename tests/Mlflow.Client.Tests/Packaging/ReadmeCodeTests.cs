using System.Reflection;
using System.Text.RegularExpressions;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Packaging;

/// <summary>The C# the README shows names what exists: a reader copies it as it is.</summary>
public sealed class ReadmeCodeTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "README.md"));

    private static IEnumerable<string> CSharpBlocks()
        => Regex.Matches(Readme, "```csharp\\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value);

    [Test]
    public void A_code_block_calls_a_client_only_where_it_declares_one()
    {
        var blocks = CSharpBlocks().ToList();
        Assert.That(blocks, Has.Count.GreaterThan(10), "the premise: the README's C# blocks were found");
        foreach (var block in blocks.Where(b => Regex.IsMatch(b, @"\bclient\.")))
        {
            Assert.That(Regex.IsMatch(block, @"\b(var|MlflowClient)\s+client\b"), Is.True, "a block calls client.… without declaring it:\n" + block);
        }
    }

    [Test]
    public void Every_tracker_method_the_readme_calls_exists()
    {
        // The tracker's own methods and the extension methods of the packages the README shows (tracker.SearchRuns and
        // the other comparisons are in Mlflow.Client.Evaluation).
        var extensions = typeof(ComparisonTrackerExtensions).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.IsDefined(typeof(System.Runtime.CompilerServices.ExtensionAttribute), false) && m.GetParameters()[0].ParameterType == typeof(MlflowTracker));
        var names = typeof(MlflowTracker).GetMethods(BindingFlags.Public | BindingFlags.Instance).Concat(extensions).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var called = CSharpBlocks().SelectMany(b => Regex.Matches(b, @"\btracker\.(\w+)\(").Select(m => m.Groups[1].Value)).Distinct().ToList();
        Assert.That(called, Does.Contain("CompareWithAlias"), "the premise: the gate example calls the tracker");
        Assert.That(called.Where(n => !names.Contains(n)), Is.Empty, "methods the README calls on MlflowTracker that it does not have");
    }

    [Test]
    public void The_readme_says_the_files_flavor_is_not_for_pyfunc_or_evaluate_and_onnx_is()
    {
        var text = Regex.Replace(Readme, @"\s+", " ");
        Assert.That(Regex.IsMatch(text, @"The `files` flavor .{0,300}`mlflow\.pyfunc\.load_model` cannot load it and `mlflow\.evaluate` cannot score it"), Is.True,
            "the README says the files flavor cannot be loaded by mlflow.pyfunc nor scored by mlflow.evaluate");
        Assert.That(Regex.IsMatch(text, @"`mlflow\.evaluate` cannot score it.{0,200}export it to ONNX"), Is.True, "and points to ONNX");
    }
}
