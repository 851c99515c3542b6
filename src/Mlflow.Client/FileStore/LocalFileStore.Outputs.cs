// A run's outputs (MLflow 3): the logged models it produced, as <run>/outputs/<model_id>/meta.yaml, and the models it
// used, read from <run>/inputs (MLflow 3.11.1's FileStore layout; MLflow 2.x readers ignore the outputs folder).
namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    private const string OutputsFolderName = "outputs";

    /// <summary>
    /// Links logged models to the run as its outputs, as MLflow 3.11.1's <c>FileStore.log_outputs</c>: one
    /// <c>outputs/&lt;model_id&gt;/meta.yaml</c> per model (the model id as both source and destination id, as Python
    /// writes it), left as it is when the run already has it.
    /// </summary>
    internal void LogOutputs(string runId, IReadOnlyList<ModelOutput> models)
    {
        MlflowValidation.ValidateRunId(runId);
        ArgumentNullException.ThrowIfNull(models);
        foreach (var m in models)
        {
            ArgumentNullException.ThrowIfNull(m);
            CheckModelId(m.ModelId);
        }

        var runDir = LocateRun(runId);
        RunWriters.WithWriter(runDir, w =>
        {
            EnsureActive(w, runId);
            foreach (var m in models)
            {
                var outputDir = FileStorePaths.Combine(_root, Path.Combine(runDir, OutputsFolderName), m.ModelId, "model id");
                if (File.Exists(Path.Combine(outputDir, MetaFileName)))
                {
                    continue;
                }

                Directory.CreateDirectory(outputDir);
                WriteTextAtomically(runDir, Path.Combine(outputDir, MetaFileName), MiniYaml.Write(
                [
                    new("destination_id", m.ModelId), new("destination_type", "MODEL_OUTPUT"), new("source_id", m.ModelId),
                    new("source_type", "RUN_OUTPUT"), new("step", m.Step), new("tags", new MiniYaml.Mapping([])),
                ]));
            }

            return 0;
        });
    }

    private RunOutputs ReadOutputs(string runDir)
    {
        var outputsDir = Path.Combine(runDir, OutputsFolderName);
        var result = new List<ModelOutput>();
        foreach (var outputDir in SafeEnumerateDirectories(outputsDir).Order(StringComparer.Ordinal))
        {
            try
            {
                var output = ReadYamlWithRetry(Path.Combine(outputDir, MetaFileName));
                if (AsString(output.GetValueOrDefault("destination_type")) == "MODEL_OUTPUT" && AsString(output.GetValueOrDefault("destination_id")) is { Length: > 0 } modelId)
                {
                    result.Add(new ModelOutput(modelId, AsLong(output.GetValueOrDefault("step")) ?? 0));
                }
            }
            catch (Exception ex) when (ex is FormatException or IOException)
            {
                FileStoreLog.SkippedEntity(_logger, outputDir, "malformed run output", ex);
            }
        }

        return new RunOutputs { ModelOutputs = result };
    }
}
