namespace Mlflow.Client.Artifacts;

/// <summary>
/// A dataset's schema as MLflow writes it for a pandas dataset: <c>{"mlflow_colspec": [{"type": ..., "name": ...,
/// "required": ...}]}</c>, one column spec per column, typed by the values' .NET types (<c>int</c> and smaller as
/// <c>integer</c>, <c>long</c> as <c>long</c>, <c>double</c>/<c>decimal</c> as <c>double</c>, <c>float</c> as
/// <c>float</c>, <c>bool</c> as <c>boolean</c>, dates as <c>datetime</c>, <c>byte[]</c> as <c>binary</c>, strings as
/// <c>string</c>); a whole-number column with a missing value is <c>double</c>, as pandas makes it <c>float64</c>
/// (<see cref="PandasColumnTypes"/>, the rule the digest and the table writer follow too); <c>required</c> is
/// <see langword="false"/> when the column holds a <see langword="null"/> or a NaN.
/// <see langword="null"/> (no schema) when a column mixes types or holds another type, as MLflow gives up on such a frame.
/// </summary>
internal static class DatasetSchema
{
    public static string? Infer(MlflowTable table)
    {
        var specs = new List<object?>(table.Columns.Count);
        for (var c = 0; c < table.Columns.Count; c++)
        {
            string? type = null;
            var column = default(PandasColumnTypes.Accumulator);
            foreach (var row in table.RowArrays)
            {
                column.Add(row[c]);
                if (row[c] is not { } value)
                {
                    continue;
                }

                var t = TypeName(value);
                if (t is null || (type is not null && t != type))
                {
                    return null;
                }

                type = t;
            }

            if (type is null)
            {
                return null; // only missing values: pandas cannot type the column either
            }

            // One rule with the digest and the table writer: a missing value (None, or NaN) makes a column not
            // required, and whole numbers with one a float64 column.
            var anyMissing = column.Result.AnyMissing;
            type = PandasColumnTypes.SchemaType(type, anyMissing);
            specs.Add(new List<KeyValuePair<string, object?>> { new("type", type), new("name", table.Columns[c]), new("required", !anyMissing) });
        }

        return PythonJson.Serialize(new List<KeyValuePair<string, object?>> { new("mlflow_colspec", specs) });
    }

    private static string? TypeName(object value) => value switch
    {
        string => "string",
        bool => "boolean",
        int or short or sbyte or byte or ushort => "integer",
        long or uint or ulong => "long", // PandasColumnTypes.IsWhole: every integral type
        double or decimal => "double",
        float or Half => "float",
        DateTime or DateTimeOffset => "datetime",
        byte[] => "binary",
        _ => null,
    };
}
