using System.Reflection;

namespace Mlflow.Client;

/// <summary>
/// A table for <see cref="ActiveRun.LogTable(MlflowTable, string)"/>: named columns and rows of values, logged as
/// MLflow's table JSON (what <c>mlflow.log_table</c> writes and <c>mlflow.load_table</c> reads). Build it from rows of a
/// record or class type (<see cref="FromRows{T}(IEnumerable{T})"/>: its public readable properties are the columns),
/// from columns (<see cref="FromColumns"/>), or from column names and value rows (<see cref="FromRows(IReadOnlyList{string}, IEnumerable{IReadOnlyList{object}})"/>).
/// </summary>
/// <remarks>
/// Values may be <see langword="null"/>, strings, booleans, integers, floating-point numbers (<see cref="decimal"/>
/// as a double; NaN and infinities become <c>null</c>, as pandas writes them), <see cref="DateTime"/> and
/// <see cref="DateTimeOffset"/> (ISO 8601 with milliseconds), or anything else as its invariant text. A column is
/// written as pandas would type it: integers stay integers; integers with floats or with missing values become floats
/// (<c>1.0</c>), as in a pandas <c>float64</c> column.
/// </remarks>
public sealed class MlflowTable
{
    private MlflowTable(IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows)
    {
        Columns = columns;
        RowArrays = rows;
    }

    /// <summary>The column names, in order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The rows; each has one value per column.</summary>
    public IReadOnlyList<IReadOnlyList<object?>> Rows => RowArrays;

    /// <summary>The number of rows.</summary>
    public int RowCount => RowArrays.Count;

    internal IReadOnlyList<object?[]> RowArrays { get; }

    /// <summary>A table with one column per public readable instance property of <typeparamref name="T"/> (declaration order) and one row per item.</summary>
    /// <typeparam name="T">A record or class type; its public properties are the columns.</typeparam>
    /// <param name="rows">The rows (no <see langword="null"/> items).</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> has no public readable property, or a row is <see langword="null"/>.</exception>
    public static MlflowTable FromRows<T>(IEnumerable<T> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var properties = ColumnProperties(typeof(T));
        var data = new List<object?[]>();
        foreach (var row in rows)
        {
            if (row is null)
            {
                throw new ArgumentException($"Row {data.Count} is null; every row of a table needs a value.", nameof(rows));
            }

            data.Add(properties.Select(p => p.GetValue(row)).ToArray());
        }

        return new MlflowTable(properties.Select(p => p.Name).ToArray(), data);
    }

    /// <summary>A table from column names and rows of values.</summary>
    /// <param name="columns">The column names (distinct).</param>
    /// <param name="rows">The rows; each must have exactly one value per column.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentException">A row has another number of values than there are columns (nothing is built), or column names repeat.</exception>
    public static MlflowTable FromRows(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        var names = CheckColumnNames(columns, nameof(columns));
        var data = new List<object?[]>();
        foreach (var row in rows)
        {
            if (row is null || row.Count != names.Length)
            {
                throw new ArgumentException($"Row {data.Count} has {row?.Count ?? 0} values but the table has {names.Length} columns ({string.Join(", ", names)}); every row needs one value per column.", nameof(rows));
            }

            data.Add(row.ToArray());
        }

        return new MlflowTable(names, data);
    }

    /// <summary>A table from columns: each name with its values, all columns of the same length.</summary>
    /// <param name="columns">Column names and their values, in column order.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentException">Columns have different lengths (nothing is built), or names repeat.</exception>
    public static MlflowTable FromColumns(IEnumerable<KeyValuePair<string, IEnumerable<object?>>> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var materialized = columns.Select(c => (c.Key, Values: (c.Value ?? throw new ArgumentException($"Column '{c.Key}' has no values (null).", nameof(columns))).ToArray())).ToList();
        var names = CheckColumnNames(materialized.Select(c => c.Key).ToList(), nameof(columns));
        var length = materialized.Count == 0 ? 0 : materialized[0].Values.Length;
        var ragged = materialized.FirstOrDefault(c => c.Values.Length != length);
        if (ragged.Values is not null)
        {
            throw new ArgumentException($"Column '{ragged.Key}' has {ragged.Values.Length} values but column '{materialized[0].Key}' has {length}; all columns of a table need the same length.", nameof(columns));
        }

        var data = new List<object?[]>(length);
        for (var r = 0; r < length; r++)
        {
            data.Add(materialized.Select(c => c.Values[r]).ToArray());
        }

        return new MlflowTable(names, data);
    }

    /// <summary>
    /// This table's rows followed by <paramref name="more"/>'s, as <c>pandas.concat(ignore_index=True)</c> joins them:
    /// the columns of this table, then those only <paramref name="more"/> has; a value a table lacks is <see langword="null"/>.
    /// </summary>
    internal MlflowTable Append(MlflowTable more)
    {
        var columns = Columns.Concat(more.Columns.Where(c => !Columns.Contains(c, StringComparer.Ordinal))).ToArray();
        var rows = new List<object?[]>(RowCount + more.RowCount);
        rows.AddRange(Reorder(this, columns));
        rows.AddRange(Reorder(more, columns));
        return new MlflowTable(columns, rows);

        static IEnumerable<object?[]> Reorder(MlflowTable t, string[] columns)
        {
            var index = columns.Select(c => t.Columns.ToList().IndexOf(c)).ToArray();
            return t.RowArrays.Select(row => index.Select(i => i < 0 ? null : row[i]).ToArray());
        }
    }

    internal static MlflowTable Create(IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows) => new(columns, rows);

    internal static PropertyInfo[] ColumnProperties(Type type)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true })
            .OrderBy(p => p.MetadataToken)
            .ToArray();
        if (properties.Length == 0)
        {
            throw new ArgumentException($"Type {type.Name} has no public readable property to make a column of.", nameof(type));
        }

        return properties;
    }

    private static string[] CheckColumnNames(IReadOnlyList<string> columns, string paramName)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in columns)
        {
            if (c is null)
            {
                throw new ArgumentException("A column name is null.", paramName);
            }

            if (!seen.Add(c))
            {
                throw new ArgumentException($"Column '{c}' appears twice; column names must be distinct.", paramName);
            }
        }

        return columns.ToArray();
    }
}
