using Mlflow.Client.Artifacts;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>
/// The MLmodel file and the history entry against what MLflow writes. Expected texts were produced by MLflow 2.12.2's
/// Python (Debian's /usr/bin/python3): <c>m = mlflow.models.Model(artifact_path=..., run_id=..., utc_time_created=...,
/// model_uuid=..., signature=...)</c>, <c>m.add_flavor(...)</c> with the same flavor fields, <c>m.model_size_bytes = ...</c>,
/// then <c>m.to_yaml()</c> (the MLmodel file) and <c>json.dumps(m.to_dict())</c> (the history entry).
/// </summary>
internal sealed class ModelWriterTests
{
    private const string RunId = "0123456789abcdef0123456789abcdef";
    private const string Uuid = "fedcba9876543210fedcba9876543210";
    private static readonly DateTime Created = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1_234_560);
    private string _dir = "";

    private static string TinyOnnx => Path.Combine(RepoPaths.RepoRoot, "tests", "Fixtures", "onnx", "tiny.onnx");

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("mlmodel-test-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Onnx_model_is_laid_out_as_mlflow_onnx_writes_it()
    {
        var options = new MlflowModelOptions
        {
            OnnxVersion = "1.12.0",
            Signature = MlflowModelSignature.ForTensors([new MlflowTensorSpec("float32", [-1, 2], "X")], [new MlflowTensorSpec("float32", [-1, 2], "Y")]),
        };
        var (model, flavors) = MlModelWriter.Write(_dir, TinyOnnx, "model", RunId, options, Created, Uuid);

        Assert.That(flavors, Is.EqualTo(new[] { "python_function", "onnx" }));
        Assert.That(File.ReadAllBytes(Path.Combine(_dir, "model.onnx")), Is.EqualTo(File.ReadAllBytes(TinyOnnx)));
        const string ExpectedYaml = """
            artifact_path: model
            flavors:
              onnx:
                code: null
                data: model.onnx
                onnx_session_options: null
                onnx_version: 1.12.0
                providers:
                - CUDAExecutionProvider
                - CPUExecutionProvider
              python_function:
                data: model.onnx
                loader_module: mlflow.onnx
            mlflow_version: 2.12.2
            model_size_bytes: 89
            model_uuid: fedcba9876543210fedcba9876543210
            run_id: 0123456789abcdef0123456789abcdef
            signature:
              inputs: '[{"name": "X", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape":
                [-1, 2]}}]'
              outputs: '[{"name": "Y", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape":
                [-1, 2]}}]'
              params: null
            utc_time_created: '2024-01-02 03:04:05.123456'

            """;
        Assert.That(File.ReadAllText(Path.Combine(_dir, "MLmodel")), Is.EqualTo(ExpectedYaml));
        const string ExpectedJson = """{"run_id": "0123456789abcdef0123456789abcdef", "artifact_path": "model", "utc_time_created": "2024-01-02 03:04:05.123456", "flavors": {"python_function": {"loader_module": "mlflow.onnx", "data": "model.onnx"}, "onnx": {"onnx_version": "1.12.0", "data": "model.onnx", "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"], "onnx_session_options": null, "code": null}}, "model_uuid": "fedcba9876543210fedcba9876543210", "mlflow_version": "2.12.2", "signature": {"inputs": "[{\"name\": \"X\", \"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 2]}}]", "outputs": "[{\"name\": \"Y\", \"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 2]}}]", "params": null}, "model_size_bytes": 89}""";
        Assert.That(PythonJson.Serialize(model), Is.EqualTo(ExpectedJson));
    }

    [Test]
    public void A_folder_gets_the_files_flavor_listing_what_it_holds()
    {
        var source = Path.Combine(_dir, "src", "weights");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        File.WriteAllBytes(Path.Combine(source, "a.bin"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(source, "sub", "b.bin"), []);
        var staging = Path.Combine(_dir, "staging");
        Directory.CreateDirectory(staging);
        var options = new MlflowModelOptions
        {
            Signature = MlflowModelSignature.ForColumns([new MlflowColumnSpec("double", "x"), new MlflowColumnSpec("string", "label", Required: false)]),
            Metadata = new Dictionary<string, string> { ["framework"] = "ML.NET", ["note"] = "it's a long note that goes on and on to pass eighty columns of text, and then some more words" },
        };
        var (model, flavors) = MlModelWriter.Write(staging, source, "models/ml net", RunId, options, new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc), Uuid);

        Assert.That(flavors, Is.EqualTo(new[] { "files" }));
        Assert.That(File.ReadAllBytes(Path.Combine(staging, "weights", "a.bin")), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(File.Exists(Path.Combine(staging, "weights", "sub", "b.bin")));
        const string ExpectedYaml = """
            artifact_path: models/ml net
            flavors:
              files:
                data: weights
                files:
                - path: weights/a.bin
                  size_bytes: 3
                - path: weights/sub/b.bin
                  size_bytes: 0
            metadata:
              framework: ML.NET
              note: it's a long note that goes on and on to pass eighty columns of text, and then
                some more words
            mlflow_version: 2.12.2
            model_size_bytes: 3
            model_uuid: fedcba9876543210fedcba9876543210
            run_id: 0123456789abcdef0123456789abcdef
            signature:
              inputs: '[{"type": "double", "name": "x", "required": true}, {"type": "string",
                "name": "label", "required": false}]'
              outputs: null
              params: null
            utc_time_created: '2024-01-02 03:04:05'

            """;
        Assert.That(File.ReadAllText(Path.Combine(staging, "MLmodel")), Is.EqualTo(ExpectedYaml));
        const string ExpectedJson = """{"run_id": "0123456789abcdef0123456789abcdef", "artifact_path": "models/ml net", "utc_time_created": "2024-01-02 03:04:05", "flavors": {"files": {"data": "weights", "files": [{"path": "weights/a.bin", "size_bytes": 3}, {"path": "weights/sub/b.bin", "size_bytes": 0}]}}, "model_uuid": "fedcba9876543210fedcba9876543210", "mlflow_version": "2.12.2", "signature": {"inputs": "[{\"type\": \"double\", \"name\": \"x\", \"required\": true}, {\"type\": \"string\", \"name\": \"label\", \"required\": false}]", "outputs": null, "params": null}, "metadata": {"framework": "ML.NET", "note": "it's a long note that goes on and on to pass eighty columns of text, and then some more words"}, "model_size_bytes": 3}""";
        Assert.That(PythonJson.Serialize(model), Is.EqualTo(ExpectedJson));
    }

    [Test]
    public void History_entries_are_appended_as_json_dumps_of_the_list()
    {
        List<KeyValuePair<string, object?>> entry = [new("run_id", "r"), new("artifact_path", "m")];
        var first = RunTagLists.Append(null, entry, RunTagLists.LoggedModelsTag);
        Assert.That(first, Is.EqualTo("""[{"run_id": "r", "artifact_path": "m"}]"""));
        Assert.That(RunTagLists.Append(first, entry, RunTagLists.LoggedModelsTag), Is.EqualTo("""[{"run_id": "r", "artifact_path": "m"}, {"run_id": "r", "artifact_path": "m"}]"""));
    }

    [Test]
    public void The_onnx_flavor_needs_a_file()
        => Assert.Throws<ArgumentException>(() => MlModelWriter.Write(_dir, _dir, "model", RunId, new MlflowModelOptions { Flavor = MlflowModelFlavor.Onnx }, Created, Uuid));

    [Test]
    public void Python_utc_time_drops_zero_microseconds()
    {
        Assert.That(MlModelWriter.PythonUtcTime(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc)), Is.EqualTo("2024-01-02 03:04:05"));
        Assert.That(MlModelWriter.PythonUtcTime(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(10)), Is.EqualTo("2024-01-02 03:04:05.000001"));
    }

    [Test]
    public void Yaml_documents_fold_like_pyyaml_only_past_80_columns()
    {
        // yaml.safe_dump({"k": "x" * 100 + " y", "short": "a b"}, default_flow_style=False): one word longer than the line stays whole
        Assert.That(MiniYaml.WriteDocument([new("k", new string('x', 100) + " y"), new("short", "a b")]), Is.EqualTo("k: " + new string('x', 100) + "\n  y\nshort: a b\n"));
    }
}
