using System.Diagnostics;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Infrastructure;

/// <summary>MLflow's own Python (the source tree of <c>MLFLOW_SRC</c>, shims of <c>MLFLOW_SHIMS</c>, Debian's python), for opt-in read-back checks.</summary>
internal static class MlflowPython
{
    /// <summary>Ignores the test unless <c>MLFLOW_SRC</c> names an MLflow source tree and <c>/usr/bin/python3</c> exists.</summary>
    public static void Require()
    {
        var src = Environment.GetEnvironmentVariable("MLFLOW_SRC") ?? "";
        if (src.Length == 0 || !File.Exists(Path.Combine(src, "mlflow", "version.py")) || !File.Exists("/usr/bin/python3"))
        {
            Assert.Ignore("Set MLFLOW_SRC (and MLFLOW_SHIMS) to an MLflow 2.12.2 source tree, see tests/RealServer/SETUP.md; /usr/bin/python3 is needed too.");
        }
    }

    /// <summary>Ignores the test unless <see cref="Require"/> holds and <c>MLFLOW_SRC</c> is an MLflow 3.x tree (traces, logged models).</summary>
    public static void RequireMlflow3()
    {
        Require();
        var version = File.ReadAllText(Path.Combine(Environment.GetEnvironmentVariable("MLFLOW_SRC")!, "mlflow", "version.py"));
        var match = System.Text.RegularExpressions.Regex.Match(version, @"VERSION\s*=\s*[""'](\d+)\.");
        if (!match.Success || int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < 3)
        {
            Assert.Ignore("This check needs MLflow 3's Python: set MLFLOW_SRC to an MLflow 3.x tree (~/mlflow-harness/mlflow3-src) and MLFLOW_SHIMS to its shims, see tests/RealServer/SETUP.md.");
        }
    }

    /// <summary>
    /// Ignores the test, naming the Debian package that provides it, unless <c>/usr/bin/python3</c> (with the MLflow tree
    /// and shims on its path) imports <paramref name="module"/>: MLflow imports some flavors' packages only when they are
    /// used (<c>mlflow.onnx</c> needs <c>onnx</c>), so a missing one is a missing prerequisite, not a failure of the SDK.
    /// </summary>
    /// <param name="module">The Python module, for example <c>onnx</c>.</param>
    /// <param name="debianPackage">The Debian package that installs it, for example <c>python3-onnx</c>.</param>
    public static void RequireModule(string module, string debianPackage)
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.Ignore("/usr/bin/python3 is needed, see tests/RealServer/SETUP.md.");
        }

        var psi = PythonStart();
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("import " + module);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"python timed out importing {module}");
        }

        if (p.ExitCode != 0)
        {
            var lines = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Ignore($"MLflow's Python needs the '{module}' module for this test: apt-get install {debianPackage} (see tests/RealServer/SETUP.md). Python said: {(lines.Length > 0 ? lines[^1] : "exit code " + p.ExitCode)}");
        }
    }

    /// <summary>Runs a script file with arguments; fails the test when it does not end within two minutes or exits non-zero.</summary>
    public static async Task<string> RunAsync(string script, params string[] args)
    {
        var psi = PythonStart();
        psi.ArgumentList.Add(script);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("python timed out");
        }

        Assert.That(p.ExitCode, Is.Zero, await stderr);
        return await stdout;
    }

    /// <summary>Debian's python with MLflow's source tree and the shims on its path.</summary>
    private static ProcessStartInfo PythonStart()
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["PYTHONPATH"] = (Environment.GetEnvironmentVariable("MLFLOW_SRC") ?? "") + Path.PathSeparator + (Environment.GetEnvironmentVariable("MLFLOW_SHIMS") ?? "");
        psi.Environment["GIT_PYTHON_REFRESH"] = "quiet";
        return psi;
    }
}
