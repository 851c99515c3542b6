using System.Security.Cryptography;
using System.Text;

namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    public Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        ArgumentNullException.ThrowIfNull(datasets);
        var runDir = LocateRun(runId);
        RunWriters.WithWriter(runDir, w =>
        {
            EnsureActive(w, runId);
            var expDir = Path.GetDirectoryName(runDir)!;
            foreach (var input in datasets)
            {
                var ds = input.Dataset;
                var datasetId = Md5Hex(ds.Name, ds.Digest);
                var datasetDir = Path.Combine(expDir, "datasets", datasetId);
                if (!File.Exists(Path.Combine(datasetDir, MetaFileName)))
                {
                    Directory.CreateDirectory(datasetDir);
                    WriteTextAtomically(expDir, Path.Combine(datasetDir, MetaFileName), MiniYaml.Write(
                    [
                        new("digest", ds.Digest), new("name", ds.Name), new("profile", ds.Profile), new("schema", ds.Schema),
                        new("source", ds.Source), new("source_type", ds.SourceType),
                    ]));
                }

                var inputId = Md5Hex(datasetId, runId);
                var inputDir = Path.Combine(runDir, "inputs", inputId);
                if (!File.Exists(Path.Combine(inputDir, MetaFileName)))
                {
                    Directory.CreateDirectory(inputDir);
                    var tags = input.Tags.GroupBy(t => t.Key, StringComparer.Ordinal).Select(g => new KeyValuePair<string, string>(g.Key, g.Last().Value)).ToList();
                    // MLflow 2.x writes the dataset id as destination_id too; kept for identical files.
                    WriteTextAtomically(runDir, Path.Combine(inputDir, MetaFileName), MiniYaml.Write(
                    [
                        new("destination_id", datasetId), new("destination_type", "RUN"), new("source_id", datasetId),
                        new("source_type", "DATASET"), new("tags", new MiniYaml.Mapping(tags)),
                    ]));
                }
            }

            return 0;
        });
        return Task.CompletedTask;
    }

    private static string Md5Hex(string a, string b)
    {
#pragma warning disable CA5351 // MLflow's file layout names datasets by MD5; not a security use
        return Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(a + b))).ToLowerInvariant();
#pragma warning restore CA5351
    }

    private RunInputs ReadInputs(string runDir)
    {
        var inputsDir = Path.Combine(runDir, "inputs");
        var datasetsDir = Path.Combine(Path.GetDirectoryName(runDir)!, "datasets");
        if (!Directory.Exists(inputsDir))
        {
            return new RunInputs();
        }

        var result = new List<DatasetInput>();
        var models = new List<ModelInput>();
        foreach (var inputDir in SafeEnumerateDirectories(inputsDir).Order(StringComparer.Ordinal))
        {
            try
            {
                var input = ReadYamlWithRetry(Path.Combine(inputDir, MetaFileName));
                var sourceType = AsString(input.GetValueOrDefault("source_type"));
                if (sourceType == "MODEL" && AsString(input.GetValueOrDefault("source_id")) is { Length: > 0 } modelId)
                {
                    models.Add(new ModelInput(modelId)); // MLflow 3.11.1: a logged model the run used
                    continue;
                }

                if (sourceType != "DATASET" || AsString(input.GetValueOrDefault("source_id")) is not { } sourceId)
                {
                    continue;
                }

                var dsPath = Path.Combine(datasetsDir, sourceId, MetaFileName);
                if (!File.Exists(dsPath))
                {
                    continue;
                }

                var ds = ReadYamlWithRetry(dsPath);
                var tags = input.GetValueOrDefault("tags") is MiniYaml.Mapping m ? m.Entries.Select(kv => new Tag(kv.Key, kv.Value)).ToList() : [];
                result.Add(new DatasetInput
                {
                    Tags = tags,
                    Dataset = new Dataset
                    {
                        Name = AsString(ds.GetValueOrDefault("name")) ?? "",
                        Digest = AsString(ds.GetValueOrDefault("digest")) ?? "",
                        SourceType = AsString(ds.GetValueOrDefault("source_type")) ?? "",
                        Source = AsString(ds.GetValueOrDefault("source")) ?? "",
                        Schema = AsString(ds.GetValueOrDefault("schema")),
                        Profile = AsString(ds.GetValueOrDefault("profile")),
                    },
                });
            }
            catch (Exception ex) when (ex is FormatException or IOException)
            {
                FileStoreLog.SkippedEntity(_logger, inputDir, "malformed run input", ex);
            }
        }

        return new RunInputs { DatasetInputs = result, ModelInputs = models };
    }
}
