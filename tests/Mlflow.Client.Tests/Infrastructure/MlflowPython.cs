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

    /// <summary>Runs a script file with arguments; fails the test when it does not end within two minutes or exits non-zero.</summary>
    public static async Task<string> RunAsync(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["PYTHONPATH"] = (Environment.GetEnvironmentVariable("MLFLOW_SRC") ?? "") + Path.PathSeparator + (Environment.GetEnvironmentVariable("MLFLOW_SHIMS") ?? "");
        psi.Environment["GIT_PYTHON_REFRESH"] = "quiet";
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
}
