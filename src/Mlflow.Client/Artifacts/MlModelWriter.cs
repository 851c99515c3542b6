using System.Globalization;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Artifacts;

/// <summary>
/// Lays out a logged model the way MLflow does: the model's files and an <c>MLmodel</c> file beside them, whose content
/// (MLflow's <c>Model.to_dict()</c>: <c>run_id</c>, <c>artifact_path</c>, <c>utc_time_created</c>, <c>flavors</c>,
/// <c>model_uuid</c>, <c>mlflow_version</c>, <c>signature</c>, <c>metadata</c>, <c>model_size_bytes</c>) is also the
/// entry appended to the run tag <c>mlflow.log-model.history</c>. The onnx flavor is MLflow's (<c>mlflow.onnx</c>
/// 2.12: <c>data: model.onnx</c>, <c>providers</c>, <c>onnx_session_options</c>, <c>code</c>, and
/// <c>onnx_version</c> when known) with a <c>python_function</c> flavor loaded by <c>mlflow.onnx</c>; the environment
/// files Python adds (<c>conda.yaml</c>, <c>python_env.yaml</c>, <c>requirements.txt</c>) and <c>python_version</c>
/// are not written, since they describe the Python process that saved a model.
/// </summary>
internal static class MlModelWriter
{
    /// <summary>The MLflow release whose <c>MLmodel</c> format this writes, recorded as <c>mlflow_version</c>.</summary>
    public const string MlflowVersion = "2.12.2";

    /// <summary>The MLflow release whose logged-model <c>MLmodel</c> format (with <c>model_id</c>) this writes for an MLflow 3 server.</summary>
    public const string Mlflow3Version = "3.11.1";

    public const string FilesFlavor = "files";
    public const string OnnxDataFile = "model.onnx";

    private static readonly string[] OnnxProviders = ["CUDAExecutionProvider", "CPUExecutionProvider"];

    /// <summary>
    /// Copies the model into <paramref name="stagingDir"/> (an ONNX file as <c>model.onnx</c>; another file or a folder
    /// under its own name) and writes <c>MLmodel</c> there. Returns the model dict (for the history tag) and the flavors.
    /// For an MLflow 3 logged model, <paramref name="modelId"/> is its id, written as <c>model_id</c> (MLflow 3.11.1's
    /// <c>Model.log</c> also passes the id as <c>model_uuid</c> and the logged model's artifact location as
    /// <c>artifact_path</c>; the caller gives those), and <c>mlflow_version</c> is <see cref="Mlflow3Version"/>.
    /// </summary>
    public static (List<KeyValuePair<string, object?>> Model, IReadOnlyList<string> Flavors) Write(
        string stagingDir, string modelPath, string artifactPath, string runId, MlflowModelOptions options, DateTime utcNow, string modelUuid, string? modelId = null)
    {
        var isDirectory = Directory.Exists(modelPath);
        var flavor = options.Flavor == MlflowModelFlavor.Auto
            ? !isDirectory && modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? MlflowModelFlavor.Onnx : MlflowModelFlavor.Files
            : options.Flavor;
        if (flavor == MlflowModelFlavor.Onnx && isDirectory)
        {
            throw new ArgumentException($"The onnx flavor needs one .onnx file; '{modelPath}' is a folder.", nameof(modelPath));
        }

        var flavors = new List<KeyValuePair<string, object?>>();
        string[] flavorNames;
        if (flavor == MlflowModelFlavor.Onnx)
        {
            File.Copy(modelPath, Path.Combine(stagingDir, OnnxDataFile));
            flavors.Add(new("python_function", new List<KeyValuePair<string, object?>> { new("loader_module", "mlflow.onnx"), new("data", OnnxDataFile) }));
            var onnx = new List<KeyValuePair<string, object?>>();
            if (options.OnnxVersion is not null)
            {
                onnx.Add(new("onnx_version", options.OnnxVersion));
            }

            onnx.Add(new("data", OnnxDataFile));
            onnx.Add(new("providers", OnnxProviders.Select(p => (object?)p).ToList()));
            onnx.Add(new("onnx_session_options", null));
            onnx.Add(new("code", null));
            flavors.Add(new("onnx", onnx));
            flavorNames = ["python_function", "onnx"];
        }
        else
        {
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(modelPath));
            if (string.Equals(name, "MLmodel", StringComparison.Ordinal))
            {
                throw new ArgumentException("The model file must not be named MLmodel: that name is the model's description.", nameof(modelPath));
            }

            var files = new List<object?>();
            if (isDirectory)
            {
                CopyDirectory(modelPath, Path.Combine(stagingDir, name), name, files);
            }
            else
            {
                File.Copy(modelPath, Path.Combine(stagingDir, name));
                files.Add(FileEntry(name, new FileInfo(modelPath).Length));
            }

            flavors.Add(new(FilesFlavor, new List<KeyValuePair<string, object?>> { new("data", name), new("files", files) }));
            flavorNames = [FilesFlavor];
        }

        var size = new DirectoryInfo(stagingDir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        var model = new List<KeyValuePair<string, object?>>
        {
            new("run_id", runId),
            new("artifact_path", artifactPath),
            new("utc_time_created", PythonUtcTime(utcNow)),
            new("flavors", flavors),
            new("model_uuid", modelUuid),
            new("mlflow_version", modelId is null ? MlflowVersion : Mlflow3Version),
        };
        if (modelId is not null)
        {
            model.Add(new("model_id", modelId));
        }

        if (options.Signature is { } signature)
        {
            model.Add(new("signature", signature.ToDict()));
        }

        if (options.Metadata is { } metadata)
        {
            model.Add(new("metadata", metadata.Select(kv => new KeyValuePair<string, object?>(kv.Key, kv.Value)).ToList()));
        }

        model.Add(new("model_size_bytes", size));
        File.WriteAllText(Path.Combine(stagingDir, "MLmodel"), MiniYaml.WriteDocument(model));
        return (model, flavorNames);
    }

    /// <summary>Python's <c>str(datetime.utcnow())</c>: microseconds, omitted when zero.</summary>
    public static string PythonUtcTime(DateTime utc)
    {
        var micro = (utc.Ticks % TimeSpan.TicksPerSecond) / 10;
        var text = utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        return micro == 0 ? text : text + "." + micro.ToString("000000", CultureInfo.InvariantCulture);
    }

    private static List<KeyValuePair<string, object?>> FileEntry(string path, long size) => [new("path", path), new("size_bytes", size)];

    private static void CopyDirectory(string source, string target, string relative, List<object?> files)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            File.Copy(file, Path.Combine(target, name));
            files.Add(FileEntry(relative + "/" + name, new FileInfo(file).Length));
        }

        foreach (var dir in Directory.EnumerateDirectories(source).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            CopyDirectory(dir, Path.Combine(target, name), relative + "/" + name, files);
        }
    }
}
