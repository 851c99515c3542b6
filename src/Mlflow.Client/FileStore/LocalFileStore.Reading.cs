using System.Globalization;
using System.Text;

namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    private static IEnumerable<string> ListRunDirs(string experimentDir)
    {
        foreach (var dir in SafeEnumerateDirectories(experimentDir))
        {
            var name = Path.GetFileName(dir);
            if (Array.IndexOf(ReservedExperimentFolders, name) < 0 && File.Exists(Path.Combine(dir, MetaFileName)))
            {
                yield return dir;
            }
        }
    }

    private static string[] SafeEnumerateDirectories(string dir)
    {
        try
        {
            return Directory.GetDirectories(dir);
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private RunMeta? ReadRunMeta(string runDir)
    {
        var path = Path.Combine(runDir, MetaFileName);
        try
        {
            return RunMeta.FromYaml(ReadYamlWithRetry(path));
        }
        catch (Exception ex) when (ex is FormatException or IOException or InvalidCastException)
        {
            FileStoreLog.SkippedEntity(_logger, path, "malformed run meta.yaml", ex);
            return null;
        }
    }

    private Run BuildRun(string runDir, RunMeta meta, bool withMetrics = true)
    {
        var tags = ReadKeyValueFiles(Path.Combine(runDir, "tags")).Select(kv => new Tag(kv.Key, kv.Value)).ToList();
        var info = meta.ToRunInfo();
        if (string.IsNullOrEmpty(info.RunName) && tags.FirstOrDefault(t => t.Key == RunNameTag) is { } nameTag)
        {
            info = info with { RunName = nameTag.Value };
        }

        return new Run
        {
            Info = info,
            Data = new RunData
            {
                Metrics = withMetrics ? ReadLatestMetrics(runDir) : [],
                Params = ReadKeyValueFiles(Path.Combine(runDir, "params")).Select(kv => new Param(kv.Key, kv.Value)).ToList(),
                Tags = tags,
            },
            Inputs = ReadInputs(runDir),
            Outputs = ReadOutputs(runDir),
        };
    }

    /// <summary>Reads every file under a folder (recursively) as key ('/'-joined relative path) → UTF-8 text, sorted by key.</summary>
    private static List<KeyValuePair<string, string>> ReadKeyValueFiles(string folder)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (!Directory.Exists(folder))
        {
            return result;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!MlflowValidation.IsValidKey(key, out _))
            {
                continue; // not a key this store or MLflow writes (editor backups, temp files)
            }

            try
            {
                result.Add(new(key, ReadUtf8(file)));
            }
            catch (FileNotFoundException)
            {
                // deleted while listing
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return result;
    }

    private static string ReadUtf8(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        var length = fs.Length;
        if (length == 0)
        {
            return "";
        }

        var bytes = new byte[length];
        fs.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Reads a meta.yaml; an empty file (a concurrent non-atomic writer, as MLflow's own) is re-read a few times.</summary>
    private static Dictionary<string, object?> ReadYamlWithRetry(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            var text = ReadUtf8(path);
            if (text.Length > 0 || attempt >= 3)
            {
                return MiniYaml.Read(text);
            }

            Thread.Sleep(10);
        }
    }

    internal static string? AsString(object? value) => value switch
    {
        null => null,
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PythonFloat.Format(d),
        bool b => b ? "True" : "False",
        _ => value.ToString(),
    };

    internal static long? AsLong(object? value) => value switch
    {
        long l => l,
        double d when !double.IsNaN(d) && !double.IsInfinity(d) => (long)d,
        string s when long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        _ => null,
    };
}
