using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>
/// The opt-in tests that have MLflow's Python read what the SDK wrote skip, naming the Debian package to install, when a
/// Python module they need is missing (<c>mlflow.onnx</c> imports <c>onnx</c>), instead of failing with Python's traceback.
/// </summary>
internal sealed class PythonPrerequisiteTests
{
    [Test]
    public void A_python_module_that_does_not_import_skips_the_test_naming_its_debian_package()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.Ignore("/usr/bin/python3 is needed to check how a missing module is reported.");
        }

        var skipped = Assert.Throws<IgnoreException>(() => MlflowPython.RequireModule("mlflow_client_tests_no_such_module", "python3-no-such-module"));
        Assert.That(skipped!.Message, Does.Contain("'mlflow_client_tests_no_such_module' module")
            .And.Contain("apt-get install python3-no-such-module")
            .And.Contain("tests/RealServer/SETUP.md")
            .And.Contain("No module named 'mlflow_client_tests_no_such_module'"));
    }

    [Test]
    public void A_python_module_that_imports_lets_the_test_run()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.Ignore("/usr/bin/python3 is needed.");
        }

        Assert.DoesNotThrow(() => MlflowPython.RequireModule("json", "libpython3-stdlib"));
    }

    [Test]
    public void The_onnx_read_back_names_python3_onnx_and_the_setup_notes_list_it()
    {
        Assert.That(MlflowReadsTablesModelsTests.OnnxDebianPackage, Is.EqualTo("python3-onnx"));
        var setup = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "tests", "RealServer", "SETUP.md"));
        Assert.That(setup, Does.Match(@"apt-get install[^`]*python3-onnx"), "SETUP.md's apt-get line installs python3-onnx");
    }
}
