using System.Buffers;
using System.Globalization;
using System.Text;

namespace Mlflow.Client.FileStore;

/// <summary>
/// Doubles as Python's <c>repr(float)</c> writes them (what MLflow's file store puts in metric files):
/// the shortest text that round-trips, fixed notation for decimal exponents -4..15 with at least one fractional
/// digit (<c>1.0</c>), scientific otherwise with a signed two-digit-minimum exponent (<c>5e-05</c>, <c>1e+16</c>),
/// and <c>nan</c>, <c>inf</c>, <c>-inf</c>. Invariant: never a decimal comma or a culture's infinity sign.
/// </summary>
internal static class PythonFloat
{
    /// <summary>The bytes of a plain decimal number (after its sign), parsed straight from UTF-8.</summary>
    private static readonly SearchValues<byte> DecimalBytes = SearchValues.Create("0123456789.eE+-"u8);

    /// <summary>Longest output: sign, 17 digits, point, 'e', sign, 3 exponent digits, plus slack.</summary>
    public const int MaxLength = 32;

    /// <summary>Formats a double as Python's <c>repr</c>.</summary>
    public static string Format(double value)
    {
        Span<char> buffer = stackalloc char[MaxLength];
        var written = Format(value, buffer);
        return new string(buffer[..written]);
    }

    /// <summary>Formats a double as Python's <c>repr</c> into <paramref name="destination"/> (at least <see cref="MaxLength"/> long).</summary>
    /// <returns>The number of characters written.</returns>
    public static int Format(double value, Span<char> destination)
    {
        if (double.IsNaN(value))
        {
            "nan".CopyTo(destination);
            return 3;
        }

        if (double.IsInfinity(value))
        {
            var text = value > 0 ? "inf" : "-inf";
            text.CopyTo(destination);
            return text.Length;
        }

        // .NET's "R" is the shortest round-trip text too; only the notation differs. Take its digits and exponent.
        Span<char> raw = stackalloc char[MaxLength];
        if (!value.TryFormat(raw, out var rawLength, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("Formatting a double needed more room than expected.");
        }

        raw = raw[..rawLength];
        var negative = raw[0] == '-';
        if (negative)
        {
            raw = raw[1..];
        }

        // Collect the significant digits and the position of the decimal point relative to them.
        Span<char> digits = stackalloc char[MaxLength];
        var digitCount = 0;
        var pointPosition = -1;
        var exponent = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '.')
            {
                pointPosition = digitCount;
            }
            else if (c is 'E' or 'e')
            {
                exponent = int.Parse(raw[(i + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                break;
            }
            else
            {
                digits[digitCount++] = c;
            }
        }

        if (pointPosition < 0)
        {
            pointPosition = digitCount;
        }

        // Strip leading zeros (moving the point) and trailing zeros.
        var start = 0;
        while (start < digitCount - 1 && digits[start] == '0')
        {
            start++;
        }

        var decimalPoint = pointPosition - start + exponent; // value = 0.d1d2d3... * 10^decimalPoint
        var sig = digits[start..digitCount];
        var sigLength = sig.Length;
        while (sigLength > 1 && sig[sigLength - 1] == '0')
        {
            sigLength--;
        }

        sig = sig[..sigLength];
        var isZero = sigLength == 1 && sig[0] == '0';
        if (isZero)
        {
            decimalPoint = 1;
        }

        var pos = 0;
        if (negative)
        {
            destination[pos++] = '-';
        }

        // Python's repr: scientific when the decimal exponent (decimalPoint - 1) is < -4 or >= 16.
        var exp10 = decimalPoint - 1;
        if (!isZero && (exp10 < -4 || exp10 >= 16))
        {
            destination[pos++] = sig[0];
            if (sig.Length > 1)
            {
                destination[pos++] = '.';
                sig[1..].CopyTo(destination[pos..]);
                pos += sig.Length - 1;
            }

            destination[pos++] = 'e';
            destination[pos++] = exp10 < 0 ? '-' : '+';
            var absExp = Math.Abs(exp10);
            if (absExp < 10)
            {
                destination[pos++] = '0';
            }

            absExp.TryFormat(destination[pos..], out var expWritten, default, CultureInfo.InvariantCulture);
            pos += expWritten;
            return pos;
        }

        if (decimalPoint <= 0)
        {
            destination[pos++] = '0';
            destination[pos++] = '.';
            for (var i = 0; i < -decimalPoint; i++)
            {
                destination[pos++] = '0';
            }

            sig.CopyTo(destination[pos..]);
            return pos + sig.Length;
        }

        if (decimalPoint >= sig.Length)
        {
            sig.CopyTo(destination[pos..]);
            pos += sig.Length;
            for (var i = sig.Length; i < decimalPoint; i++)
            {
                destination[pos++] = '0';
            }

            destination[pos++] = '.';
            destination[pos++] = '0';
            return pos;
        }

        sig[..decimalPoint].CopyTo(destination[pos..]);
        pos += decimalPoint;
        destination[pos++] = '.';
        sig[decimalPoint..].CopyTo(destination[pos..]);
        return pos + sig.Length - decimalPoint;
    }

    /// <summary>Formats into UTF-8 bytes (the text is ASCII).</summary>
    /// <returns>The number of bytes written.</returns>
    public static int FormatUtf8(double value, Span<byte> destination)
    {
        // Fast path: where .NET's shortest round-trip text is in fixed notation (about 1e-5 <= |x| < 1e15), Python's
        // repr is the same text, plus ".0" for integral values. Everything else takes the general path.
        if (double.IsFinite(value) && value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture))
        {
            var text = destination[..written];
            var unsigned = text[0] == (byte)'-' ? text[1..] : text;
            var point = unsigned.IndexOf((byte)'.');
            var integerDigits = point < 0 ? unsigned.Length : point;
            // Python: scientific from 1e16 (17 integer digits) and below 1e-4 ("0.0000" prefix).
            if (unsigned.IndexOfAny((byte)'E', (byte)'e') < 0 && integerDigits <= 16 && !unsigned.StartsWith("0.0000"u8))
            {
                if (point >= 0)
                {
                    return written;
                }

                destination[written] = (byte)'.';
                destination[written + 1] = (byte)'0';
                return written + 2;
            }
        }

        Span<char> chars = stackalloc char[MaxLength];
        var n = Format(value, chars);
        for (var i = 0; i < n; i++)
        {
            destination[i] = (byte)chars[i];
        }

        return n;
    }

    /// <summary>
    /// Parses what Python's <c>float()</c> accepts in a metric file: decimal and scientific text, <c>nan</c>,
    /// <c>inf</c>, <c>infinity</c> in any case with an optional sign, and '_' between digits.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out double value)
    {
        text = text.Trim();
        if (text.IsEmpty)
        {
            value = 0;
            return false;
        }

        var body = text;
        var negative = false;
        if (body[0] is '+' or '-')
        {
            negative = body[0] == '-';
            body = body[1..];
        }

        if (body.Equals("nan", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NaN;
            return true;
        }

        if (body.Equals("inf", StringComparison.OrdinalIgnoreCase) || body.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        if (body.Contains('_'))
        {
            // Python allows single underscores between digits only.
            Span<char> cleaned = body.Length <= 256 ? stackalloc char[body.Length] : new char[body.Length];
            var n = 0;
            for (var i = 0; i < body.Length; i++)
            {
                if (body[i] == '_')
                {
                    if (i == 0 || i == body.Length - 1 || !char.IsAsciiDigit(body[i - 1]) || !char.IsAsciiDigit(body[i + 1]))
                    {
                        value = 0;
                        return false;
                    }

                    continue;
                }

                cleaned[n++] = body[i];
            }

            return FinishParse(cleaned[..n], negative, out value);
        }

        return FinishParse(body, negative, out value);
    }

    /// <summary>
    /// <see cref="TryParse(ReadOnlySpan{char}, out double)"/> on UTF-8 text, with the same results: plain decimal numbers
    /// are parsed from the bytes, anything else (nan, inf, underscores, other characters) as text.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out double value)
    {
        var body = utf8;
        var negative = false;
        if (!body.IsEmpty && body[0] is (byte)'+' or (byte)'-')
        {
            negative = body[0] == (byte)'-';
            body = body[1..];
        }

        if (!body.IsEmpty && body.IndexOfAnyExcept(DecimalBytes) < 0)
        {
            if (!double.TryParse(body, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value))
            {
                return false;
            }

            value = negative ? -value : value;
            return true;
        }

        var text = utf8.Length <= 256 ? stackalloc char[256] : new char[utf8.Length]; // UTF-8 never decodes to more chars than bytes
        return TryParse(text[..Encoding.UTF8.GetChars(utf8, text)], out value);
    }

    private static bool FinishParse(ReadOnlySpan<char> body, bool negative, out double value)
    {
        foreach (var c in body)
        {
            if (!(char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '+' or '-'))
            {
                value = 0;
                return false;
            }
        }

        if (!double.TryParse(body, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }

        if (negative)
        {
            value = -value;
        }

        return true;
    }
}
