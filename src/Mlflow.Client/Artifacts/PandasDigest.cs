using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Mlflow.Client.Artifacts;

/// <summary>
/// MLflow's <c>compute_pandas_digest</c> for the DataFrame pandas builds from a table's columns as Python lists
/// (<c>pd.DataFrame({name: [values]})</c>): integers as <c>int64</c>; floats, or integers with a float or a missing
/// value, as <c>float64</c>; strings as <c>object</c>. Of the first 10,000 rows it keeps the string columns (every value
/// a string) and the numeric ones, hashes them with pandas' <c>hash_pandas_object</c> (SipHash-2-4 of the UTF-8 text
/// for strings, the bits for numbers, mixed by splitmix64, combined per row with the row index as CPython combines a
/// tuple), and takes the first 8 hex characters of the MD5 of those hashes, the row count and the column names. The
/// same rows therefore get the same digest here and from Python's <c>mlflow.data.from_pandas</c>.
/// </summary>
internal static class PandasDigest
{
    private const int MaxRows = 10000;
    private const ulong PythonNaNBits = 0x7FF8000000000000UL; // float("nan") and numpy's NaN; .NET's double.NaN has the sign bit set

    private static readonly byte[] HashKey = Encoding.UTF8.GetBytes("0123456789123456"); // pandas' _default_hash_key

    private enum Kind
    {
        Int64,
        Float64,
        String,
        Excluded,
    }

    public static string Compute(MlflowTable table)
    {
        var kinds = Enumerable.Range(0, table.Columns.Count).Select(c => KindOf(table.RowArrays.Select(r => r[c]))).ToArray();
        var rows = Math.Min(table.RowCount, MaxRows);
        var strings = Enumerable.Range(0, kinds.Length).Where(c => kinds[c] == Kind.String).ToList();
        var numbers = Enumerable.Range(0, kinds.Length).Where(c => kinds[c] is Kind.Int64 or Kind.Float64).ToList();

        // Index.union: one side empty keeps the other's order, otherwise the sorted union.
        var selected = strings.Count == 0 ? numbers
            : numbers.Count == 0 ? strings
            : strings.Concat(numbers).OrderBy(c => table.Columns[c], StringComparer.Ordinal).ToList();

        var combined = new ulong[rows];
        Array.Fill(combined, 0x345678UL);
        ulong mult = 1000003;
        var items = selected.Count + 1;
        for (var i = 0; i < items; i++)
        {
            var hashes = i < selected.Count ? HashColumn(table, selected[i], kinds[selected[i]], rows) : HashIndex(rows);
            for (var r = 0; r < rows; r++)
            {
                combined[r] = (combined[r] ^ hashes[r]) * mult;
            }

            mult += (ulong)(82520 + (2 * (items - i)));
        }

#pragma warning disable CA5351 // MLflow's digests are MD5 truncated to 8 characters; not a security use
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351
        var buffer = new byte[8];
        foreach (var h in combined)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buffer, h + 97531);
            md5.AppendData(buffer);
        }

        BinaryPrimitives.WriteInt64LittleEndian(buffer, table.RowCount);
        md5.AppendData(buffer);
        foreach (var column in table.Columns)
        {
            md5.AppendData(Encoding.UTF8.GetBytes(column));
        }

        return Convert.ToHexString(md5.GetHashAndReset())[..8].ToLowerInvariant();
    }

    /// <summary>
    /// The column's part in MLflow's digest (<see cref="PandasColumnTypes"/>): numeric columns are hashed; string columns
    /// only when every value is a string (MLflow selects the columns whose every value's type is <c>str</c>).
    /// </summary>
    private static Kind KindOf(IEnumerable<object?> values)
    {
        var type = PandasColumnTypes.Classify(values);
        return type.Kind switch
        {
            PandasColumnTypes.Kind.Int64 => Kind.Int64,
            PandasColumnTypes.Kind.Float64 => Kind.Float64,
            PandasColumnTypes.Kind.String when !type.AnyMissing => Kind.String,
            _ => Kind.Excluded,
        };
    }

    private static ulong[] HashColumn(MlflowTable table, int column, Kind kind, int rows)
    {
        var result = new ulong[rows];
        if (kind == Kind.String)
        {
            // factorize, hash each distinct string once, map back (same values as hashing every row)
            var cache = new Dictionary<string, ulong>(StringComparer.Ordinal);
            for (var r = 0; r < rows; r++)
            {
                var s = (string)table.RowArrays[r][column]!;
                if (!cache.TryGetValue(s, out var h))
                {
                    h = Mix(SipHash24(Encoding.UTF8.GetBytes(s)));
                    cache[s] = h;
                }

                result[r] = h;
            }

            return result;
        }

        for (var r = 0; r < rows; r++)
        {
            var v = table.RowArrays[r][column];
            ulong bits;
            if (kind == Kind.Int64)
            {
                bits = v is ulong u ? u : unchecked((ulong)Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                var d = v is null ? double.NaN : Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture);
                bits = double.IsNaN(d) ? PythonNaNBits : unchecked((ulong)BitConverter.DoubleToInt64Bits(d));
            }

            result[r] = Mix(bits);
        }

        return result;
    }

    private static ulong[] HashIndex(int rows)
    {
        var result = new ulong[rows];
        for (var r = 0; r < rows; r++)
        {
            result[r] = Mix((ulong)r);
        }

        return result;
    }

    /// <summary>The splitmix64 finalizer pandas applies to every 64-bit value.</summary>
    private static ulong Mix(ulong v)
    {
        v ^= v >> 30;
        v *= 0xBF58476D1CE4E5B9UL;
        v ^= v >> 27;
        v *= 0x94D049BB133111EBUL;
        v ^= v >> 31;
        return v;
    }

    /// <summary>SipHash-2-4 with pandas' key, as its <c>hash_object_array</c> computes it.</summary>
    private static ulong SipHash24(byte[] data)
    {
        var k0 = BinaryPrimitives.ReadUInt64LittleEndian(HashKey);
        var k1 = BinaryPrimitives.ReadUInt64LittleEndian(HashKey.AsSpan(8));
        ulong v0 = 0x736f6d6570736575UL ^ k0, v1 = 0x646f72616e646f6dUL ^ k1, v2 = 0x6c7967656e657261UL ^ k0, v3 = 0x7465646279746573UL ^ k1;
        var end = data.Length - (data.Length % 8);
        for (var i = 0; i < end; i += 8)
        {
            var m = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(i));
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        var b = (ulong)data.Length << 56;
        for (var i = data.Length - 1; i >= end; i--)
        {
            b |= (ulong)data[i] << ((i - end) * 8);
        }

        v3 ^= b;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= b;
        v2 ^= 0xff;
        for (var i = 0; i < 4; i++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }

        return v0 ^ v1 ^ v2 ^ v3;
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = ulong.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = ulong.RotateLeft(v0, 32);
        v2 += v3;
        v3 = ulong.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = ulong.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = ulong.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = ulong.RotateLeft(v2, 32);
    }
}
