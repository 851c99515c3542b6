using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mlflow.Client.Rest;

/// <summary>
/// Writes a finite <see cref="double"/> as a UTF-8 JSON number that parses back to the same double, several times
/// faster than <see cref="double.TryFormat(Span{byte}, out int, ReadOnlySpan{char}, IFormatProvider?)"/>: Grisu2
/// (Loitsch, "Printing Floating-Point Numbers Quickly and Accurately with Integers", PLDI 2010). The digits always
/// round-trip; they are usually, not always, the shortest ones (Grisu2 gives up on shortness for a small fraction of
/// values; the tests bound it at 1% of random bit patterns). Plain notation from 0.000001 to below 10^21,
/// <c>d.ddde±x</c> otherwise; zero as <c>0.0</c>/<c>-0.0</c> so that Python's json keeps the sign.
/// </summary>
internal static class FastDoubleFormatter
{
    /// <summary>Enough room for any output (at most 26 bytes).</summary>
    internal const int MaxLength = 32;

    // The scaled values W = w·10^k are kept with a binary exponent in [Alpha, Gamma]: the fraction then fits in 57 bits,
    // so it can be multiplied by 100 without overflow (two digits per step), and the integer part is below 2^10. A
    // narrow window (hence one cached power per power of ten) leaves at most 4 integer digits, which need divisions;
    // the fraction digits need only multiplications and shifts.
    private const int Alpha = -57;
    private const int Gamma = -54;

    // Decimal exponent of CachedSignificands[0]; consecutive entries are 10 apart (≈ 2^3.32 < Gamma - Alpha + 1).
    private const int FirstCachedPower = -348;
    private const int CachedPowerStep = 1;

    /// <summary>
    /// Formats <paramref name="value"/> into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes)
    /// and returns the number of bytes written.
    /// </summary>
    internal static int Format(double value, Span<byte> destination)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Only finite values have a JSON number form.");
        }

        if (destination.Length < MaxLength)
        {
            throw new ArgumentException($"The destination needs {MaxLength} bytes.", nameof(destination));
        }

        var bits = (ulong)BitConverter.DoubleToInt64Bits(value);
        var pos = 0;
        if ((long)bits < 0)
        {
            destination[0] = (byte)'-';
            pos = 1;
        }

        var fraction = bits & ((1UL << 52) - 1);
        var biasedExponent = (int)(bits >> 52) & 0x7FF;
        if (biasedExponent == 0 && fraction == 0)
        {
            destination[pos] = (byte)'0';
            destination[pos + 1] = (byte)'.';
            destination[pos + 2] = (byte)'0';
            return pos + 3;
        }

        // Digits first, right where the number starts; WriteNumber then moves them into place.
        var number = destination[pos..];
        var length = Grisu2(fraction, biasedExponent, number, out var decimalExponent);
        return pos + WriteNumber(number, length, decimalExponent);
    }

    /// <summary>
    /// Writes into <paramref name="digits"/> a digit string D (first digit and last digit nonzero) such that
    /// D·10^<paramref name="decimalExponent"/> lies strictly between the midpoints to the neighbouring doubles, so it
    /// reads back as the same double; returns the number of digits.
    /// </summary>
    private static int Grisu2(ulong fraction, int biasedExponent, Span<byte> digits, out int decimalExponent)
    {
        // v = f·2^e exactly.
        ulong f;
        int e;
        if (biasedExponent == 0)
        {
            f = fraction;
            e = -1074;
        }
        else
        {
            f = fraction | (1UL << 52);
            e = biasedExponent - 1075;
        }

        // Midpoints to the neighbours: m+ = (2f + 1)·2^(e-1); m- = (2f - 1)·2^(e-1), or (4f - 1)·2^(e-2) when v is a
        // power of two whose lower neighbour is twice as close (not for the smallest normal: same spacing below).
        var upper = (f << 1) + 1;
        var shift = BitOperations.LeadingZeroCount(upper);
        upper <<= shift;
        var exponent = e - 1 - shift; // shared by w, m+ and m- once normalized
        var lower = fraction == 0 && biasedExponent > 1
            ? ((f << 2) - 1) << (e - 2 - exponent)
            : ((f << 1) - 1) << (e - 1 - exponent);
        var w = f << BitOperations.LeadingZeroCount(f); // same exponent as normalized 2f+1: one bit more, one shift less

        // Cached power c ≈ 10^k with alpha ≤ exponent + ce + 64 ≤ gamma.
        var minCachedExponent = Alpha - 64 - exponent;
        var index = ((minCachedExponent - CachedBinaryExponents[0]) * 19728) >> 16; // / 3.3219 (log2 of 10), then fixed up
        while (CachedBinaryExponents[index] < minCachedExponent)
        {
            index++;
        }

        while (index > 0 && CachedBinaryExponents[index - 1] >= minCachedExponent)
        {
            index--;
        }

        var c = CachedSignificands[index];
        var scaledExponent = exponent + CachedBinaryExponents[index] + 64;
        Debug.Assert(scaledExponent is >= Alpha and <= Gamma, "cached power out of range");
        var k = FirstCachedPower + (CachedPowerStep * index);

        // Each product is within 1 unit of the exact one (cached power ≤ ½ unit off, rounding ≤ ½ unit): step 1 unit
        // inwards on both sides so that any number in [scaledLower, scaledUpper] is strictly inside (m-, m+).
        var scaledW = MultiplyRounded(w, c);
        var scaledUpper = MultiplyRounded(upper, c) - 1;
        var scaledLower = MultiplyRounded(lower, c) + 1;
        var length = GenerateDigits(scaledW, scaledUpper, scaledUpper - scaledLower, -scaledExponent, digits, out var kappa);
        decimalExponent = kappa - k;
        return length;
    }

    private static ulong MultiplyRounded(ulong a, ulong b)
    {
        var product = (UInt128)a * b;
        return (ulong)(product >> 64) + ((ulong)product >> 63);
    }

    /// <summary>
    /// Digits of <paramref name="upper"/>·2^-<paramref name="shift"/>, stopped as soon as the number they spell is
    /// within <paramref name="delta"/> below <paramref name="upper"/>, then the last digit is lowered towards
    /// <paramref name="w"/> while that stays within the interval and comes closer to w.
    /// </summary>
    private static int GenerateDigits(ulong w, ulong upper, ulong delta, int shift, Span<byte> digits, out int exponent)
    {
        var one = 1UL << shift;
        var mask = one - 1;
        var integral = (uint)(upper >> shift); // in [2^5, 2^10): upper ∈ [2^62, 2^64), shift ∈ [54, 57]
        var fractional = upper & mask;
        var distance = upper - w;
        var length = 0;

        // kappa: the decimal exponent of the next digit + 1 (a local: the out parameter would live in memory).
        var kappa = DecimalLength(integral);
        while (kappa > 0)
        {
            var unit = Pow10[kappa - 1];
            var digit = DivideByPow10(integral, kappa - 1);
            integral -= digit * unit;
            digits[length++] = (byte)('0' + digit);
            kappa--;
            var rest = ((ulong)integral << shift) + fractional;
            if (rest <= delta)
            {
                RoundTowards(digits[..length], distance, delta, rest, (ulong)unit << shift);
                exponent = kappa;
                return length;
            }
        }

        // Fraction digits two at a time. Not done yet, so delta < fractional < one ≤ 2^57 and distance ≤ delta: the
        // products by 100 cannot overflow.
        while (true)
        {
            fractional *= 100;
            delta *= 100;
            distance *= 100;
            var pair = (uint)(fractional >> shift);
            fractional &= mask;
            var first = pair / 10;
            var second = pair - (first * 10);
            digits[length++] = (byte)('0' + first);
            var restAfterFirst = ((ulong)second << shift) + fractional;
            if (restAfterFirst <= delta)
            {
                RoundTowards(digits[..length], distance, delta, restAfterFirst, one * 10);
                exponent = kappa - 1;
                return length;
            }

            digits[length++] = (byte)('0' + second);
            kappa -= 2;
            if (fractional <= delta)
            {
                RoundTowards(digits[..length], distance, delta, fractional, one);
                exponent = kappa;
                return length;
            }
        }
    }

    /// <summary>
    /// The digits spell upper - <paramref name="rest"/>; lowering the last digit subtracts <paramref name="unit"/>.
    /// Lower it while the result stays ≥ upper - delta and gets closer to w = upper - <paramref name="distance"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RoundTowards(Span<byte> digits, ulong distance, ulong delta, ulong rest, ulong unit)
    {
        while (rest < distance
            && delta - rest >= unit
            && (rest + unit < distance || distance - rest > rest + unit - distance))
        {
            digits[^1]--;
            rest += unit;
        }
    }

    /// <summary><paramref name="value"/> / 10^<paramref name="n"/> for n ≤ 3, by constants (multiplications, no div).</summary>
    private static uint DivideByPow10(uint value, int n) => n == 0 ? value : n == 1 ? value / 10 : n == 2 ? value / 100 : value / 1000;

    private static int DecimalLength(uint value)
    {
        return value >= 1000 ? 4 : value >= 100 ? 3 : value >= 10 ? 2 : 1;
    }

    /// <summary>
    /// Turns the <paramref name="length"/> digits D at the start of <paramref name="buffer"/> into D·10^exponent in
    /// JSON number syntax, in place; returns the number of bytes.
    /// </summary>
    private static int WriteNumber(Span<byte> buffer, int length, int exponent)
    {
        var point = length + exponent; // position of the decimal point after the first digit of D
        if (exponent >= 0 && point <= 21)
        {
            // Integer: D followed by zeros.
            for (var i = length; i < point; i++)
            {
                buffer[i] = (byte)'0';
            }

            return point;
        }

        if (point is > 0 and <= 21)
        {
            // ddd.ddd
            for (var i = length; i > point; i--)
            {
                buffer[i] = buffer[i - 1];
            }

            buffer[point] = (byte)'.';
            return length + 1;
        }

        if (point is > -6 and <= 0)
        {
            // 0.000ddd
            var offset = 2 - point;
            for (var i = length - 1; i >= 0; i--)
            {
                buffer[i + offset] = buffer[i];
            }

            buffer[0] = (byte)'0';
            buffer[1] = (byte)'.';
            for (var i = 2; i < offset; i++)
            {
                buffer[i] = (byte)'0';
            }
            return offset + length;
        }

        // d.ddde±x
        var pos = 1;
        if (length > 1)
        {
            for (var i = length; i > 1; i--)
            {
                buffer[i] = buffer[i - 1];
            }

            buffer[1] = (byte)'.';
            pos = length + 1;
        }

        buffer[pos++] = (byte)'e';
        var scientific = point - 1;
        if (scientific < 0)
        {
            buffer[pos++] = (byte)'-';
            scientific = -scientific;
        }
        else
        {
            buffer[pos++] = (byte)'+';
        }

        if (scientific >= 100)
        {
            buffer[pos++] = (byte)('0' + (scientific / 100));
            scientific %= 100;
            buffer[pos++] = (byte)('0' + (scientific / 10));
        }
        else if (scientific >= 10)
        {
            buffer[pos++] = (byte)('0' + (scientific / 10));
        }

        buffer[pos++] = (byte)('0' + (scientific % 10));
        return pos;
    }

    private static ReadOnlySpan<uint> Pow10 => new uint[] { 1, 10, 100, 1000 };

    // Generated with Python big integers (exact rationals, tests/tools/gen_cached_powers.py): for k = -348, -347, ..., 348, the 64-bit significand
    // f ∈ [2^63, 2^64) nearest to 10^k/2^e and its binary exponent e, so that 10^k ≈ f·2^e within ½·2^e.
    private static ReadOnlySpan<ulong> CachedSignificands => new ulong[]
    {
        0xFA8FD5A0081C0288, 0x9C99E58405118195, 0xC3C05EE50655E1FA, 0xF4B0769E47EB5A79,
        0x98EE4A22ECF3188C, 0xBF29DCABA82FDEAE, 0xEEF453D6923BD65A, 0x9558B4661B6565F8,
        0xBAAEE17FA23EBF76, 0xE95A99DF8ACE6F54, 0x91D8A02BB6C10594, 0xB64EC836A47146FA,
        0xE3E27A444D8D98B8, 0x8E6D8C6AB0787F73, 0xB208EF855C969F50, 0xDE8B2B66B3BC4724,
        0x8B16FB203055AC76, 0xADDCB9E83C6B1794, 0xD953E8624B85DD79, 0x87D4713D6F33AA6C,
        0xA9C98D8CCB009506, 0xD43BF0EFFDC0BA48, 0x84A57695FE98746D, 0xA5CED43B7E3E9188,
        0xCF42894A5DCE35EA, 0x818995CE7AA0E1B2, 0xA1EBFB4219491A1F, 0xCA66FA129F9B60A7,
        0xFD00B897478238D1, 0x9E20735E8CB16382, 0xC5A890362FDDBC63, 0xF712B443BBD52B7C,
        0x9A6BB0AA55653B2D, 0xC1069CD4EABE89F9, 0xF148440A256E2C77, 0x96CD2A865764DBCA,
        0xBC807527ED3E12BD, 0xEBA09271E88D976C, 0x93445B8731587EA3, 0xB8157268FDAE9E4C,
        0xE61ACF033D1A45DF, 0x8FD0C16206306BAC, 0xB3C4F1BA87BC8697, 0xE0B62E2929ABA83C,
        0x8C71DCD9BA0B4926, 0xAF8E5410288E1B6F, 0xDB71E91432B1A24B, 0x892731AC9FAF056F,
        0xAB70FE17C79AC6CA, 0xD64D3D9DB981787D, 0x85F0468293F0EB4E, 0xA76C582338ED2622,
        0xD1476E2C07286FAA, 0x82CCA4DB847945CA, 0xA37FCE126597973D, 0xCC5FC196FEFD7D0C,
        0xFF77B1FCBEBCDC4F, 0x9FAACF3DF73609B1, 0xC795830D75038C1E, 0xF97AE3D0D2446F25,
        0x9BECCE62836AC577, 0xC2E801FB244576D5, 0xF3A20279ED56D48A, 0x9845418C345644D7,
        0xBE5691EF416BD60C, 0xEDEC366B11C6CB8F, 0x94B3A202EB1C3F39, 0xB9E08A83A5E34F08,
        0xE858AD248F5C22CA, 0x91376C36D99995BE, 0xB58547448FFFFB2E, 0xE2E69915B3FFF9F9,
        0x8DD01FAD907FFC3C, 0xB1442798F49FFB4B, 0xDD95317F31C7FA1D, 0x8A7D3EEF7F1CFC52,
        0xAD1C8EAB5EE43B67, 0xD863B256369D4A41, 0x873E4F75E2224E68, 0xA90DE3535AAAE202,
        0xD3515C2831559A83, 0x8412D9991ED58092, 0xA5178FFF668AE0B6, 0xCE5D73FF402D98E4,
        0x80FA687F881C7F8E, 0xA139029F6A239F72, 0xC987434744AC874F, 0xFBE9141915D7A922,
        0x9D71AC8FADA6C9B5, 0xC4CE17B399107C23, 0xF6019DA07F549B2B, 0x99C102844F94E0FB,
        0xC0314325637A193A, 0xF03D93EEBC589F88, 0x96267C7535B763B5, 0xBBB01B9283253CA3,
        0xEA9C227723EE8BCB, 0x92A1958A7675175F, 0xB749FAED14125D37, 0xE51C79A85916F485,
        0x8F31CC0937AE58D3, 0xB2FE3F0B8599EF08, 0xDFBDCECE67006AC9, 0x8BD6A141006042BE,
        0xAECC49914078536D, 0xDA7F5BF590966849, 0x888F99797A5E012D, 0xAAB37FD7D8F58179,
        0xD5605FCDCF32E1D7, 0x855C3BE0A17FCD26, 0xA6B34AD8C9DFC070, 0xD0601D8EFC57B08C,
        0x823C12795DB6CE57, 0xA2CB1717B52481ED, 0xCB7DDCDDA26DA269, 0xFE5D54150B090B03,
        0x9EFA548D26E5A6E2, 0xC6B8E9B0709F109A, 0xF867241C8CC6D4C1, 0x9B407691D7FC44F8,
        0xC21094364DFB5637, 0xF294B943E17A2BC4, 0x979CF3CA6CEC5B5B, 0xBD8430BD08277231,
        0xECE53CEC4A314EBE, 0x940F4613AE5ED137, 0xB913179899F68584, 0xE757DD7EC07426E5,
        0x9096EA6F3848984F, 0xB4BCA50B065ABE63, 0xE1EBCE4DC7F16DFC, 0x8D3360F09CF6E4BD,
        0xB080392CC4349DED, 0xDCA04777F541C568, 0x89E42CAAF9491B61, 0xAC5D37D5B79B6239,
        0xD77485CB25823AC7, 0x86A8D39EF77164BD, 0xA8530886B54DBDEC, 0xD267CAA862A12D67,
        0x8380DEA93DA4BC60, 0xA46116538D0DEB78, 0xCD795BE870516656, 0x806BD9714632DFF6,
        0xA086CFCD97BF97F4, 0xC8A883C0FDAF7DF0, 0xFAD2A4B13D1B5D6C, 0x9CC3A6EEC6311A64,
        0xC3F490AA77BD60FD, 0xF4F1B4D515ACB93C, 0x991711052D8BF3C5, 0xBF5CD54678EEF0B7,
        0xEF340A98172AACE5, 0x9580869F0E7AAC0F, 0xBAE0A846D2195713, 0xE998D258869FACD7,
        0x91FF83775423CC06, 0xB67F6455292CBF08, 0xE41F3D6A7377EECA, 0x8E938662882AF53E,
        0xB23867FB2A35B28E, 0xDEC681F9F4C31F31, 0x8B3C113C38F9F37F, 0xAE0B158B4738705F,
        0xD98DDAEE19068C76, 0x87F8A8D4CFA417CA, 0xA9F6D30A038D1DBC, 0xD47487CC8470652B,
        0x84C8D4DFD2C63F3B, 0xA5FB0A17C777CF0A, 0xCF79CC9DB955C2CC, 0x81AC1FE293D599C0,
        0xA21727DB38CB0030, 0xCA9CF1D206FDC03C, 0xFD442E4688BD304B, 0x9E4A9CEC15763E2F,
        0xC5DD44271AD3CDBA, 0xF7549530E188C129, 0x9A94DD3E8CF578BA, 0xC13A148E3032D6E8,
        0xF18899B1BC3F8CA2, 0x96F5600F15A7B7E5, 0xBCB2B812DB11A5DE, 0xEBDF661791D60F56,
        0x936B9FCEBB25C996, 0xB84687C269EF3BFB, 0xE65829B3046B0AFA, 0x8FF71A0FE2C2E6DC,
        0xB3F4E093DB73A093, 0xE0F218B8D25088B8, 0x8C974F7383725573, 0xAFBD2350644EEAD0,
        0xDBAC6C247D62A584, 0x894BC396CE5DA772, 0xAB9EB47C81F5114F, 0xD686619BA27255A3,
        0x8613FD0145877586, 0xA798FC4196E952E7, 0xD17F3B51FCA3A7A1, 0x82EF85133DE648C5,
        0xA3AB66580D5FDAF6, 0xCC963FEE10B7D1B3, 0xFFBBCFE994E5C620, 0x9FD561F1FD0F9BD4,
        0xC7CABA6E7C5382C9, 0xF9BD690A1B68637B, 0x9C1661A651213E2D, 0xC31BFA0FE5698DB8,
        0xF3E2F893DEC3F126, 0x986DDB5C6B3A76B8, 0xBE89523386091466, 0xEE2BA6C0678B597F,
        0x94DB483840B717F0, 0xBA121A4650E4DDEC, 0xE896A0D7E51E1566, 0x915E2486EF32CD60,
        0xB5B5ADA8AAFF80B8, 0xE3231912D5BF60E6, 0x8DF5EFABC5979C90, 0xB1736B96B6FD83B4,
        0xDDD0467C64BCE4A1, 0x8AA22C0DBEF60EE4, 0xAD4AB7112EB3929E, 0xD89D64D57A607745,
        0x87625F056C7C4A8B, 0xA93AF6C6C79B5D2E, 0xD389B47879823479, 0x843610CB4BF160CC,
        0xA54394FE1EEDB8FF, 0xCE947A3DA6A9273E, 0x811CCC668829B887, 0xA163FF802A3426A9,
        0xC9BCFF6034C13053, 0xFC2C3F3841F17C68, 0x9D9BA7832936EDC1, 0xC5029163F384A931,
        0xF64335BCF065D37D, 0x99EA0196163FA42E, 0xC06481FB9BCF8D3A, 0xF07DA27A82C37088,
        0x964E858C91BA2655, 0xBBE226EFB628AFEB, 0xEADAB0ABA3B2DBE5, 0x92C8AE6B464FC96F,
        0xB77ADA0617E3BBCB, 0xE55990879DDCAABE, 0x8F57FA54C2A9EAB7, 0xB32DF8E9F3546564,
        0xDFF9772470297EBD, 0x8BFBEA76C619EF36, 0xAEFAE51477A06B04, 0xDAB99E59958885C5,
        0x88B402F7FD75539B, 0xAAE103B5FCD2A882, 0xD59944A37C0752A2, 0x857FCAE62D8493A5,
        0xA6DFBD9FB8E5B88F, 0xD097AD07A71F26B2, 0x825ECC24C8737830, 0xA2F67F2DFA90563B,
        0xCBB41EF979346BCA, 0xFEA126B7D78186BD, 0x9F24B832E6B0F436, 0xC6EDE63FA05D3144,
        0xF8A95FCF88747D94, 0x9B69DBE1B548CE7D, 0xC24452DA229B021C, 0xF2D56790AB41C2A3,
        0x97C560BA6B0919A6, 0xBDB6B8E905CB600F, 0xED246723473E3813, 0x9436C0760C86E30C,
        0xB94470938FA89BCF, 0xE7958CB87392C2C3, 0x90BD77F3483BB9BA, 0xB4ECD5F01A4AA828,
        0xE2280B6C20DD5232, 0x8D590723948A535F, 0xB0AF48EC79ACE837, 0xDCDB1B2798182245,
        0x8A08F0F8BF0F156B, 0xAC8B2D36EED2DAC6, 0xD7ADF884AA879177, 0x86CCBB52EA94BAEB,
        0xA87FEA27A539E9A5, 0xD29FE4B18E88640F, 0x83A3EEEEF9153E89, 0xA48CEAAAB75A8E2B,
        0xCDB02555653131B6, 0x808E17555F3EBF12, 0xA0B19D2AB70E6ED6, 0xC8DE047564D20A8C,
        0xFB158592BE068D2F, 0x9CED737BB6C4183D, 0xC428D05AA4751E4D, 0xF53304714D9265E0,
        0x993FE2C6D07B7FAC, 0xBF8FDB78849A5F97, 0xEF73D256A5C0F77D, 0x95A8637627989AAE,
        0xBB127C53B17EC159, 0xE9D71B689DDE71B0, 0x9226712162AB070E, 0xB6B00D69BB55C8D1,
        0xE45C10C42A2B3B06, 0x8EB98A7A9A5B04E3, 0xB267ED1940F1C61C, 0xDF01E85F912E37A3,
        0x8B61313BBABCE2C6, 0xAE397D8AA96C1B78, 0xD9C7DCED53C72256, 0x881CEA14545C7575,
        0xAA242499697392D3, 0xD4AD2DBFC3D07788, 0x84EC3C97DA624AB5, 0xA6274BBDD0FADD62,
        0xCFB11EAD453994BA, 0x81CEB32C4B43FCF5, 0xA2425FF75E14FC32, 0xCAD2F7F5359A3B3E,
        0xFD87B5F28300CA0E, 0x9E74D1B791E07E48, 0xC612062576589DDB, 0xF79687AED3EEC551,
        0x9ABE14CD44753B53, 0xC16D9A0095928A27, 0xF1C90080BAF72CB1, 0x971DA05074DA7BEF,
        0xBCE5086492111AEB, 0xEC1E4A7DB69561A5, 0x9392EE8E921D5D07, 0xB877AA3236A4B449,
        0xE69594BEC44DE15B, 0x901D7CF73AB0ACD9, 0xB424DC35095CD80F, 0xE12E13424BB40E13,
        0x8CBCCC096F5088CC, 0xAFEBFF0BCB24AAFF, 0xDBE6FECEBDEDD5BF, 0x89705F4136B4A597,
        0xABCC77118461CEFD, 0xD6BF94D5E57A42BC, 0x8637BD05AF6C69B6, 0xA7C5AC471B478423,
        0xD1B71758E219652C, 0x83126E978D4FDF3B, 0xA3D70A3D70A3D70A, 0xCCCCCCCCCCCCCCCD,
        0x8000000000000000, 0xA000000000000000, 0xC800000000000000, 0xFA00000000000000,
        0x9C40000000000000, 0xC350000000000000, 0xF424000000000000, 0x9896800000000000,
        0xBEBC200000000000, 0xEE6B280000000000, 0x9502F90000000000, 0xBA43B74000000000,
        0xE8D4A51000000000, 0x9184E72A00000000, 0xB5E620F480000000, 0xE35FA931A0000000,
        0x8E1BC9BF04000000, 0xB1A2BC2EC5000000, 0xDE0B6B3A76400000, 0x8AC7230489E80000,
        0xAD78EBC5AC620000, 0xD8D726B7177A8000, 0x878678326EAC9000, 0xA968163F0A57B400,
        0xD3C21BCECCEDA100, 0x84595161401484A0, 0xA56FA5B99019A5C8, 0xCECB8F27F4200F3A,
        0x813F3978F8940984, 0xA18F07D736B90BE5, 0xC9F2C9CD04674EDF, 0xFC6F7C4045812296,
        0x9DC5ADA82B70B59E, 0xC5371912364CE305, 0xF684DF56C3E01BC7, 0x9A130B963A6C115C,
        0xC097CE7BC90715B3, 0xF0BDC21ABB48DB20, 0x96769950B50D88F4, 0xBC143FA4E250EB31,
        0xEB194F8E1AE525FD, 0x92EFD1B8D0CF37BE, 0xB7ABC627050305AE, 0xE596B7B0C643C719,
        0x8F7E32CE7BEA5C70, 0xB35DBF821AE4F38C, 0xE0352F62A19E306F, 0x8C213D9DA502DE45,
        0xAF298D050E4395D7, 0xDAF3F04651D47B4C, 0x88D8762BF324CD10, 0xAB0E93B6EFEE0054,
        0xD5D238A4ABE98068, 0x85A36366EB71F041, 0xA70C3C40A64E6C52, 0xD0CF4B50CFE20766,
        0x82818F1281ED44A0, 0xA321F2D7226895C8, 0xCBEA6F8CEB02BB3A, 0xFEE50B7025C36A08,
        0x9F4F2726179A2245, 0xC722F0EF9D80AAD6, 0xF8EBAD2B84E0D58C, 0x9B934C3B330C8577,
        0xC2781F49FFCFA6D5, 0xF316271C7FC3908B, 0x97EDD871CFDA3A57, 0xBDE94E8E43D0C8EC,
        0xED63A231D4C4FB27, 0x945E455F24FB1CF9, 0xB975D6B6EE39E437, 0xE7D34C64A9C85D44,
        0x90E40FBEEA1D3A4B, 0xB51D13AEA4A488DD, 0xE264589A4DCDAB15, 0x8D7EB76070A08AED,
        0xB0DE65388CC8ADA8, 0xDD15FE86AFFAD912, 0x8A2DBF142DFCC7AB, 0xACB92ED9397BF996,
        0xD7E77A8F87DAF7FC, 0x86F0AC99B4E8DAFD, 0xA8ACD7C0222311BD, 0xD2D80DB02AABD62C,
        0x83C7088E1AAB65DB, 0xA4B8CAB1A1563F52, 0xCDE6FD5E09ABCF27, 0x80B05E5AC60B6178,
        0xA0DC75F1778E39D6, 0xC913936DD571C84C, 0xFB5878494ACE3A5F, 0x9D174B2DCEC0E47B,
        0xC45D1DF942711D9A, 0xF5746577930D6501, 0x9968BF6ABBE85F20, 0xBFC2EF456AE276E9,
        0xEFB3AB16C59B14A3, 0x95D04AEE3B80ECE6, 0xBB445DA9CA61281F, 0xEA1575143CF97227,
        0x924D692CA61BE758, 0xB6E0C377CFA2E12E, 0xE498F455C38B997A, 0x8EDF98B59A373FEC,
        0xB2977EE300C50FE7, 0xDF3D5E9BC0F653E1, 0x8B865B215899F46D, 0xAE67F1E9AEC07188,
        0xDA01EE641A708DEA, 0x884134FE908658B2, 0xAA51823E34A7EEDF, 0xD4E5E2CDC1D1EA96,
        0x850FADC09923329E, 0xA6539930BF6BFF46, 0xCFE87F7CEF46FF17, 0x81F14FAE158C5F6E,
        0xA26DA3999AEF774A, 0xCB090C8001AB551C, 0xFDCB4FA002162A63, 0x9E9F11C4014DDA7E,
        0xC646D63501A1511E, 0xF7D88BC24209A565, 0x9AE757596946075F, 0xC1A12D2FC3978937,
        0xF209787BB47D6B85, 0x9745EB4D50CE6333, 0xBD176620A501FC00, 0xEC5D3FA8CE427B00,
        0x93BA47C980E98CE0, 0xB8A8D9BBE123F018, 0xE6D3102AD96CEC1E, 0x9043EA1AC7E41393,
        0xB454E4A179DD1877, 0xE16A1DC9D8545E95, 0x8CE2529E2734BB1D, 0xB01AE745B101E9E4,
        0xDC21A1171D42645D, 0x899504AE72497EBA, 0xABFA45DA0EDBDE69, 0xD6F8D7509292D603,
        0x865B86925B9BC5C2, 0xA7F26836F282B733, 0xD1EF0244AF2364FF, 0x8335616AED761F1F,
        0xA402B9C5A8D3A6E7, 0xCD036837130890A1, 0x802221226BE55A65, 0xA02AA96B06DEB0FE,
        0xC83553C5C8965D3D, 0xFA42A8B73ABBF48D, 0x9C69A97284B578D8, 0xC38413CF25E2D70E,
        0xF46518C2EF5B8CD1, 0x98BF2F79D5993803, 0xBEEEFB584AFF8604, 0xEEAABA2E5DBF6785,
        0x952AB45CFA97A0B3, 0xBA756174393D88E0, 0xE912B9D1478CEB17, 0x91ABB422CCB812EF,
        0xB616A12B7FE617AA, 0xE39C49765FDF9D95, 0x8E41ADE9FBEBC27D, 0xB1D219647AE6B31C,
        0xDE469FBD99A05FE3, 0x8AEC23D680043BEE, 0xADA72CCC20054AEA, 0xD910F7FF28069DA4,
        0x87AA9AFF79042287, 0xA99541BF57452B28, 0xD3FA922F2D1675F2, 0x847C9B5D7C2E09B7,
        0xA59BC234DB398C25, 0xCF02B2C21207EF2F, 0x8161AFB94B44F57D, 0xA1BA1BA79E1632DC,
        0xCA28A291859BBF93, 0xFCB2CB35E702AF78, 0x9DEFBF01B061ADAB, 0xC56BAEC21C7A1916,
        0xF6C69A72A3989F5C, 0x9A3C2087A63F6399, 0xC0CB28A98FCF3C80, 0xF0FDF2D3F3C30B9F,
        0x969EB7C47859E744, 0xBC4665B596706115, 0xEB57FF22FC0C795A, 0x9316FF75DD87CBD8,
        0xB7DCBF5354E9BECE, 0xE5D3EF282A242E82, 0x8FA475791A569D11, 0xB38D92D760EC4455,
        0xE070F78D3927556B, 0x8C469AB843B89563, 0xAF58416654A6BABB, 0xDB2E51BFE9D0696A,
        0x88FCF317F22241E2, 0xAB3C2FDDEEAAD25B, 0xD60B3BD56A5586F2, 0x85C7056562757457,
        0xA738C6BEBB12D16D, 0xD106F86E69D785C8, 0x82A45B450226B39D, 0xA34D721642B06084,
        0xCC20CE9BD35C78A5, 0xFF290242C83396CE, 0x9F79A169BD203E41, 0xC75809C42C684DD1,
        0xF92E0C3537826146, 0x9BBCC7A142B17CCC, 0xC2ABF989935DDBFE, 0xF356F7EBF83552FE,
        0x98165AF37B2153DF, 0xBE1BF1B059E9A8D6, 0xEDA2EE1C7064130C, 0x9485D4D1C63E8BE8,
        0xB9A74A0637CE2EE1, 0xE8111C87C5C1BA9A, 0x910AB1D4DB9914A0, 0xB54D5E4A127F59C8,
        0xE2A0B5DC971F303A, 0x8DA471A9DE737E24, 0xB10D8E1456105DAD, 0xDD50F1996B947519,
        0x8A5296FFE33CC930, 0xACE73CBFDC0BFB7B, 0xD8210BEFD30EFA5A, 0x8714A775E3E95C78,
        0xA8D9D1535CE3B396, 0xD31045A8341CA07C, 0x83EA2B892091E44E, 0xA4E4B66B68B65D61,
        0xCE1DE40642E3F4B9, 0x80D2AE83E9CE78F4, 0xA1075A24E4421731, 0xC94930AE1D529CFD,
        0xFB9B7CD9A4A7443C, 0x9D412E0806E88AA6, 0xC491798A08A2AD4F, 0xF5B5D7EC8ACB58A3,
        0x9991A6F3D6BF1766, 0xBFF610B0CC6EDD3F, 0xEFF394DCFF8A948F, 0x95F83D0A1FB69CD9,
        0xBB764C4CA7A44410, 0xEA53DF5FD18D5514, 0x92746B9BE2F8552C, 0xB7118682DBB66A77,
        0xE4D5E82392A40515, 0x8F05B1163BA6832D, 0xB2C71D5BCA9023F8, 0xDF78E4B2BD342CF7,
        0x8BAB8EEFB6409C1A, 0xAE9672ABA3D0C321, 0xDA3C0F568CC4F3E9, 0x8865899617FB1871,
        0xAA7EEBFB9DF9DE8E, 0xD51EA6FA85785631, 0x8533285C936B35DF, 0xA67FF273B8460357,
        0xD01FEF10A657842C, 0x8213F56A67F6B29C, 0xA298F2C501F45F43, 0xCB3F2F7642717713,
        0xFE0EFB53D30DD4D8, 0x9EC95D1463E8A507, 0xC67BB4597CE2CE49, 0xF81AA16FDC1B81DB,
        0x9B10A4E5E9913129, 0xC1D4CE1F63F57D73, 0xF24A01A73CF2DCD0, 0x976E41088617CA02,
        0xBD49D14AA79DBC82, 0xEC9C459D51852BA3, 0x93E1AB8252F33B46, 0xB8DA1662E7B00A17,
        0xE7109BFBA19C0C9D, 0x906A617D450187E2, 0xB484F9DC9641E9DB, 0xE1A63853BBD26451,
        0x8D07E33455637EB3, 0xB049DC016ABC5E60, 0xDC5C5301C56B75F7, 0x89B9B3E11B6329BB,
        0xAC2820D9623BF429, 0xD732290FBACAF134, 0x867F59A9D4BED6C0, 0xA81F301449EE8C70,
        0xD226FC195C6A2F8C, 0x83585D8FD9C25DB8, 0xA42E74F3D032F526, 0xCD3A1230C43FB26F,
        0x80444B5E7AA7CF85, 0xA0555E361951C367, 0xC86AB5C39FA63441, 0xFA856334878FC151,
        0x9C935E00D4B9D8D2, 0xC3B8358109E84F07, 0xF4A642E14C6262C9, 0x98E7E9CCCFBD7DBE,
        0xBF21E44003ACDD2D, 0xEEEA5D5004981478, 0x95527A5202DF0CCB, 0xBAA718E68396CFFE,
        0xE950DF20247C83FD, 0x91D28B7416CDD27E, 0xB6472E511C81471E, 0xE3D8F9E563A198E5,
        0x8E679C2F5E44FF8F, 0xB201833B35D63F73, 0xDE81E40A034BCF50, 0x8B112E86420F6192,
        0xADD57A27D29339F6, 0xD94AD8B1C7380874, 0x87CEC76F1C830549, 0xA9C2794AE3A3C69B,
        0xD433179D9C8CB841, 0x849FEEC281D7F329, 0xA5C7EA73224DEFF3, 0xCF39E50FEAE16BF0,
        0x81842F29F2CCE376, 0xA1E53AF46F801C53, 0xCA5E89B18B602368, 0xFCF62C1DEE382C42,
        0x9E19DB92B4E31BA9, 0xC5A05277621BE294, 0xF70867153AA2DB39, 0x9A65406D44A5C903,
        0xC0FE908895CF3B44, 0xF13E34AABB430A15, 0x96C6E0EAB509E64D, 0xBC789925624C5FE1,
        0xEB96BF6EBADF77D9, 0x933E37A534CBAAE8, 0xB80DC58E81FE95A1, 0xE61136F2227E3B0A,
        0x8FCAC257558EE4E6, 0xB3BD72ED2AF29E20, 0xE0ACCFA875AF45A8, 0x8C6C01C9498D8B89,
        0xAF87023B9BF0EE6B, 0xDB68C2CA82ED2A06, 0x892179BE91D43A44, 0xAB69D82E364948D4,
        0xD6444E39C3DB9B0A, 0x85EAB0E41A6940E6, 0xA7655D1D2103911F, 0xD13EB46469447567,
        0x82C730BEC1CAC961,
    };

    private static ReadOnlySpan<short> CachedBinaryExponents => new short[]
    {
        -1220, -1216, -1213, -1210, -1206, -1203, -1200, -1196, -1193, -1190, -1186, -1183,
        -1180, -1176, -1173, -1170, -1166, -1163, -1160, -1156, -1153, -1150, -1146, -1143,
        -1140, -1136, -1133, -1130, -1127, -1123, -1120, -1117, -1113, -1110, -1107, -1103,
        -1100, -1097, -1093, -1090, -1087, -1083, -1080, -1077, -1073, -1070, -1067, -1063,
        -1060, -1057, -1053, -1050, -1047, -1043, -1040, -1037, -1034, -1030, -1027, -1024,
        -1020, -1017, -1014, -1010, -1007, -1004, -1000, -997, -994, -990, -987, -984,
        -980, -977, -974, -970, -967, -964, -960, -957, -954, -950, -947, -944,
        -940, -937, -934, -931, -927, -924, -921, -917, -914, -911, -907, -904,
        -901, -897, -894, -891, -887, -884, -881, -877, -874, -871, -867, -864,
        -861, -857, -854, -851, -847, -844, -841, -838, -834, -831, -828, -824,
        -821, -818, -814, -811, -808, -804, -801, -798, -794, -791, -788, -784,
        -781, -778, -774, -771, -768, -764, -761, -758, -754, -751, -748, -744,
        -741, -738, -735, -731, -728, -725, -721, -718, -715, -711, -708, -705,
        -701, -698, -695, -691, -688, -685, -681, -678, -675, -671, -668, -665,
        -661, -658, -655, -651, -648, -645, -642, -638, -635, -632, -628, -625,
        -622, -618, -615, -612, -608, -605, -602, -598, -595, -592, -588, -585,
        -582, -578, -575, -572, -568, -565, -562, -558, -555, -552, -549, -545,
        -542, -539, -535, -532, -529, -525, -522, -519, -515, -512, -509, -505,
        -502, -499, -495, -492, -489, -485, -482, -479, -475, -472, -469, -465,
        -462, -459, -455, -452, -449, -446, -442, -439, -436, -432, -429, -426,
        -422, -419, -416, -412, -409, -406, -402, -399, -396, -392, -389, -386,
        -382, -379, -376, -372, -369, -366, -362, -359, -356, -353, -349, -346,
        -343, -339, -336, -333, -329, -326, -323, -319, -316, -313, -309, -306,
        -303, -299, -296, -293, -289, -286, -283, -279, -276, -273, -269, -266,
        -263, -259, -256, -253, -250, -246, -243, -240, -236, -233, -230, -226,
        -223, -220, -216, -213, -210, -206, -203, -200, -196, -193, -190, -186,
        -183, -180, -176, -173, -170, -166, -163, -160, -157, -153, -150, -147,
        -143, -140, -137, -133, -130, -127, -123, -120, -117, -113, -110, -107,
        -103, -100, -97, -93, -90, -87, -83, -80, -77, -73, -70, -67,
        -63, -60, -57, -54, -50, -47, -44, -40, -37, -34, -30, -27,
        -24, -20, -17, -14, -10, -7, -4, 0, 3, 6, 10, 13,
        16, 20, 23, 26, 30, 33, 36, 39, 43, 46, 49, 53,
        56, 59, 63, 66, 69, 73, 76, 79, 83, 86, 89, 93,
        96, 99, 103, 106, 109, 113, 116, 119, 123, 126, 129, 132,
        136, 139, 142, 146, 149, 152, 156, 159, 162, 166, 169, 172,
        176, 179, 182, 186, 189, 192, 196, 199, 202, 206, 209, 212,
        216, 219, 222, 226, 229, 232, 235, 239, 242, 245, 249, 252,
        255, 259, 262, 265, 269, 272, 275, 279, 282, 285, 289, 292,
        295, 299, 302, 305, 309, 312, 315, 319, 322, 325, 328, 332,
        335, 338, 342, 345, 348, 352, 355, 358, 362, 365, 368, 372,
        375, 378, 382, 385, 388, 392, 395, 398, 402, 405, 408, 412,
        415, 418, 422, 425, 428, 431, 435, 438, 441, 445, 448, 451,
        455, 458, 461, 465, 468, 471, 475, 478, 481, 485, 488, 491,
        495, 498, 501, 505, 508, 511, 515, 518, 521, 524, 528, 531,
        534, 538, 541, 544, 548, 551, 554, 558, 561, 564, 568, 571,
        574, 578, 581, 584, 588, 591, 594, 598, 601, 604, 608, 611,
        614, 617, 621, 624, 627, 631, 634, 637, 641, 644, 647, 651,
        654, 657, 661, 664, 667, 671, 674, 677, 681, 684, 687, 691,
        694, 697, 701, 704, 707, 711, 714, 717, 720, 724, 727, 730,
        734, 737, 740, 744, 747, 750, 754, 757, 760, 764, 767, 770,
        774, 777, 780, 784, 787, 790, 794, 797, 800, 804, 807, 810,
        813, 817, 820, 823, 827, 830, 833, 837, 840, 843, 847, 850,
        853, 857, 860, 863, 867, 870, 873, 877, 880, 883, 887, 890,
        893, 897, 900, 903, 907, 910, 913, 916, 920, 923, 926, 930,
        933, 936, 940, 943, 946, 950, 953, 956, 960, 963, 966, 970,
        973, 976, 980, 983, 986, 990, 993, 996, 1000, 1003, 1006, 1009,
        1013, 1016, 1019, 1023, 1026, 1029, 1033, 1036, 1039, 1043, 1046, 1049,
        1053, 1056, 1059, 1063, 1066, 1069, 1073, 1076, 1079, 1083, 1086, 1089,
        1093,
    };
}
