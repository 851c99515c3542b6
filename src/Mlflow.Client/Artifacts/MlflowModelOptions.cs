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

    /// <summary>On an MLflow 3 server: the logged model's name; the artifact path when <see langword="null"/> (as Python's <c>log_model(name=...)</c>).</summary>
    public string? Name { get; set; }

    /// <summary>On an MLflow 3 server: the logged model's free-form type (<c>model_type</c>), for example <c>classifier</c>.</summary>
    public string? ModelType { get; set; }

    /// <summary>On an MLflow 3 server: params of the logged model. The params this run logged are added (a run param wins over one of the same key here, as in Python's <c>log_model</c>).</summary>
    public IReadOnlyDictionary<string, string>? Params { get; set; }

    /// <summary>On an MLflow 3 server: tags of the logged model, beside the context tags (<c>mlflow.user</c>, <c>mlflow.source.*</c>), which they override.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; set; }

    /// <summary>On an MLflow 3 server: the step at which the run produced the model (its run output's <c>step</c>); the run's metrics at this step are linked to the model. 0 by default.</summary>
    public long Step { get; set; }
}

/// <summary>What <see cref="ActiveRun.LogModel(string, string, MlflowModelOptions?)"/> logged.</summary>
/// <param name="ArtifactPath">The artifact path given to <c>LogModel</c>: the model's folder in the run's artifacts (MLflow 2 way), or the logged model's default name (MLflow 3).</param>
/// <param name="ModelUri">The model URI: <c>models:/m-&lt;id&gt;</c> for an MLflow 3 logged model, else <c>runs:/&lt;run id&gt;/&lt;artifact path&gt;</c>.</param>
/// <param name="ModelUuid">The model's <c>model_uuid</c> (the logged model's id on MLflow 3, as Python writes it).</param>
/// <param name="UtcTimeCreated">The <c>utc_time_created</c> written into <c>MLmodel</c>.</param>
/// <param name="Flavors">The flavor names.</param>
public sealed record LoggedModelInfo(string ArtifactPath, string ModelUri, string ModelUuid, string UtcTimeCreated, IReadOnlyList<string> Flavors)
{
    /// <summary>
    /// The logged model's id (<c>m-…</c>) when the model was logged as an MLflow 3 logged model; <see langword="null"/>
    /// when it was written the MLflow 2 way (run artifacts). Pass it to
    /// <see cref="ActiveRun.LogMetric(string, double, string, MlflowDataset?, long?, DateTimeOffset?)"/> to link metrics to the model.
    /// </summary>
    public string? ModelId { get; init; }
}
