namespace Mlflow.Client;

/// <summary>How <see cref="ActiveRun.LogModel(string, string, MlflowModelOptions?)"/> describes a model.</summary>
public enum MlflowModelFlavor
{
    /// <summary><see cref="Onnx"/> for a <c>.onnx</c> file, <see cref="Files"/> otherwise.</summary>
    Auto,

    /// <summary>MLflow's <c>onnx</c> flavor with a <c>python_function</c> flavor (loader <c>mlflow.onnx</c>): Python's <c>mlflow.onnx.load_model</c> and <c>mlflow.pyfunc.load_model</c> open it.</summary>
    Onnx,

    /// <summary>The <c>files</c> flavor: any file or folder (an ML.NET <c>.zip</c>, TorchSharp weights), with the list of files it holds and their sizes.</summary>
    Files,
}

/// <summary>Options of <see cref="ActiveRun.LogModel(string, string, MlflowModelOptions?)"/>.</summary>
public sealed class MlflowModelOptions
{
    /// <summary>The flavor (default: by the file's extension).</summary>
    public MlflowModelFlavor Flavor { get; set; } = MlflowModelFlavor.Auto;

    /// <summary>The signature written into <c>MLmodel</c>, or <see langword="null"/>.</summary>
    public MlflowModelSignature? Signature { get; set; }

    /// <summary>The <c>onnx</c> package version recorded in the onnx flavor (<c>onnx_version</c>, as Python writes its own); omitted when <see langword="null"/>.</summary>
    public string? OnnxVersion { get; set; }

    /// <summary>Free-form string metadata written as <c>metadata</c> in <c>MLmodel</c>, or <see langword="null"/>.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; set; }
}

/// <summary>What <see cref="ActiveRun.LogModel(string, string, MlflowModelOptions?)"/> logged.</summary>
/// <param name="ArtifactPath">The model's folder in the run's artifacts.</param>
/// <param name="ModelUri">The model URI, <c>runs:/&lt;run id&gt;/&lt;artifact path&gt;</c>.</param>
/// <param name="ModelUuid">The model's <c>model_uuid</c>.</param>
/// <param name="UtcTimeCreated">The <c>utc_time_created</c> written into <c>MLmodel</c>.</param>
/// <param name="Flavors">The flavor names.</param>
public sealed record LoggedModelInfo(string ArtifactPath, string ModelUri, string ModelUuid, string UtcTimeCreated, IReadOnlyList<string> Flavors);
