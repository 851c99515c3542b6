using Mlflow.Client.Artifacts;

namespace Mlflow.Client;

/// <summary>One tensor of a model signature, as MLflow's <c>TensorSpec</c>: a numpy dtype name and a shape (-1 for a free dimension).</summary>
/// <param name="DType">The numpy dtype name: <c>float32</c>, <c>float64</c>, <c>int64</c>, <c>int32</c>, <c>bool</c>, <c>str</c>, ...</param>
/// <param name="Shape">The shape, -1 for a variable dimension (the batch).</param>
/// <param name="Name">The tensor name (an ONNX input or output name), or <see langword="null"/>.</param>
public sealed record MlflowTensorSpec(string DType, IReadOnlyList<long> Shape, string? Name = null);

/// <summary>One column of a model signature, as MLflow's <c>ColSpec</c>.</summary>
/// <param name="Type">MLflow's type name: <c>string</c>, <c>long</c>, <c>integer</c>, <c>double</c>, <c>float</c>, <c>boolean</c>, <c>datetime</c>, <c>binary</c>.</param>
/// <param name="Name">The column name, or <see langword="null"/>.</param>
/// <param name="Required">Whether the column must be present.</param>
public sealed record MlflowColumnSpec(string Type, string? Name = null, bool Required = true);

/// <summary>
/// A model signature as MLflow records it in <c>MLmodel</c> (<c>signature: inputs/outputs/params</c>): a list of
/// tensors (<see cref="ForTensors"/>, the usual one for ONNX) or of columns (<see cref="ForColumns"/>).
/// </summary>
public sealed class MlflowModelSignature
{
    private MlflowModelSignature(string inputs, string? outputs)
    {
        InputsJson = inputs;
        OutputsJson = outputs;
    }

    /// <summary>The inputs as MLflow's schema JSON (the <c>inputs</c> value of the <c>MLmodel</c> file).</summary>
    public string InputsJson { get; }

    /// <summary>The outputs as MLflow's schema JSON, or <see langword="null"/>.</summary>
    public string? OutputsJson { get; }

    /// <summary>A tensor-based signature.</summary>
    /// <param name="inputs">The input tensors (at least one).</param>
    /// <param name="outputs">The output tensors, or <see langword="null"/>.</param>
    /// <returns>The signature.</returns>
    public static MlflowModelSignature ForTensors(IEnumerable<MlflowTensorSpec> inputs, IEnumerable<MlflowTensorSpec>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return new MlflowModelSignature(Tensors(inputs, nameof(inputs))!, outputs is null ? null : Tensors(outputs, nameof(outputs)));
    }

    /// <summary>A column-based signature.</summary>
    /// <param name="inputs">The input columns (at least one).</param>
    /// <param name="outputs">The output columns, or <see langword="null"/>.</param>
    /// <returns>The signature.</returns>
    public static MlflowModelSignature ForColumns(IEnumerable<MlflowColumnSpec> inputs, IEnumerable<MlflowColumnSpec>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return new MlflowModelSignature(Columns(inputs, nameof(inputs)), outputs is null ? null : Columns(outputs, nameof(outputs)));
    }

    /// <summary>MLflow's <c>ModelSignature.to_dict()</c>: inputs, outputs and params (none).</summary>
    internal List<KeyValuePair<string, object?>> ToDict() => [new("inputs", InputsJson), new("outputs", OutputsJson), new("params", null)];

    private static string Tensors(IEnumerable<MlflowTensorSpec> specs, string paramName)
    {
        var list = new List<object?>();
        foreach (var s in specs)
        {
            ArgumentNullException.ThrowIfNull(s, paramName);
            ArgumentException.ThrowIfNullOrEmpty(s.DType, paramName);
            var d = new List<KeyValuePair<string, object?>>();
            if (s.Name is not null)
            {
                d.Add(new("name", s.Name));
            }

            d.Add(new("type", "tensor"));
            d.Add(new("tensor-spec", new List<KeyValuePair<string, object?>> { new("dtype", s.DType), new("shape", s.Shape.Select(x => (object?)x).ToList()) }));
            list.Add(d);
        }

        return NonEmpty(list, paramName);
    }

    private static string Columns(IEnumerable<MlflowColumnSpec> specs, string paramName)
    {
        var list = new List<object?>();
        foreach (var s in specs)
        {
            ArgumentNullException.ThrowIfNull(s, paramName);
            ArgumentException.ThrowIfNullOrEmpty(s.Type, paramName);
            var d = new List<KeyValuePair<string, object?>> { new("type", s.Type) };
            if (s.Name is not null)
            {
                d.Add(new("name", s.Name));
            }

            d.Add(new("required", s.Required));
            list.Add(d);
        }

        return NonEmpty(list, paramName);
    }

    private static string NonEmpty(List<object?> list, string paramName)
        => list.Count == 0 ? throw new ArgumentException("A signature needs at least one entry.", paramName) : PythonJson.Serialize(list);
}
