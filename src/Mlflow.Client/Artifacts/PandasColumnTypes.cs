namespace Mlflow.Client.Artifacts;

/// <summary>
/// The one rule for what pandas makes of a column of .NET values, shared by the dataset digest
/// (<see cref="PandasDigest"/>), the table writer (<see cref="TableJson"/>) and the dataset schema
/// (<see cref="DatasetSchema"/>): whole numbers of any integral type (<see cref="ulong"/> included) are an
/// <c>int64</c> column, unless a value is missing, which makes it <c>float64</c> as in pandas; floating values are
/// <c>float64</c> (a missing one is NaN).
/// </summary>
internal static class PandasColumnTypes
{
    /// <summary>What a column becomes in pandas, for the digest and the schema.</summary>
    internal enum Kind
    {
        /// <summary>No value, or values pandas keeps as <c>object</c> of mixed types.</summary>
        Other,

        /// <summary>Whole numbers, none missing: <c>int64</c>.</summary>
        Int64,

        /// <summary>Floating values, or whole numbers with one missing: <c>float64</c>.</summary>
        Float64,

        /// <summary>Strings, some possibly missing (<c>None</c>): an <c>object</c> column.</summary>
        String,
    }

    /// <summary>A column's kind and whether a value of it is missing (<see langword="null"/>, or NaN).</summary>
    internal readonly record struct ColumnType(Kind Kind, bool AnyMissing);

    /// <summary>Whether a value is a whole number of an integral type.</summary>
    public static bool IsWhole(object? value) => value is sbyte or byte or short or ushort or int or uint or long or ulong;

    /// <summary>Whether a value is a floating-point or decimal number.</summary>
    public static bool IsFloating(object? value) => value is double or float or decimal or Half;

    /// <summary>Whether a value is missing for pandas: <see langword="null"/>, or NaN in a floating column.</summary>
    public static bool IsMissing(object? value) => value switch
    {
        null => true,
        double d => double.IsNaN(d),
        float f => float.IsNaN(f),
        Half h => Half.IsNaN(h),
        _ => false,
    };

    /// <summary>The kind of a column of values, and whether one is missing.</summary>
    public static ColumnType Classify(IEnumerable<object?> values)
    {
        var column = default(Accumulator);
        foreach (var v in values)
        {
            column.Add(v);
        }

        return column.Result;
    }

    /// <summary>
    /// The schema type of a column whose present values are all of schema type <paramref name="valueType"/>
    /// (<c>integer</c>, <c>long</c>, <c>double</c>, ...): whole numbers with a missing value are <c>double</c>, as pandas
    /// reads them as <c>float64</c>.
    /// </summary>
    public static string SchemaType(string valueType, bool anyMissing) => anyMissing && valueType is "integer" or "long" ? "double" : valueType;

    /// <summary>Classifies a column one value at a time (<see cref="Classify"/>), for callers that walk the values once for several purposes.</summary>
    internal struct Accumulator
    {
        private bool _anyValue, _anyNull, _anyNaN, _anyFloat, _notAllStrings, _notAllNumbers;

        /// <summary>Takes one value of the column.</summary>
        public void Add(object? value)
        {
            if (value is null)
            {
                _anyNull = true;
                return;
            }

            _anyNaN |= IsMissing(value);
            _anyValue = true;
            _notAllStrings |= value is not string;
            var floating = IsFloating(value);
            _notAllNumbers |= !(IsWhole(value) || floating);
            _anyFloat |= floating;
        }

        /// <summary>The column's kind and whether a value is missing, from the values taken so far.</summary>
        public readonly ColumnType Result => new(
            !_anyValue ? Kind.Other
            : !_notAllStrings ? Kind.String
            : _notAllNumbers ? Kind.Other
            : _anyFloat || _anyNull ? Kind.Float64 : Kind.Int64,
            _anyNull || _anyNaN);
    }
}
