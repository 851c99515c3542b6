# Generates the cached powers of ten of src/Mlflow.Client/Rest/FastDoubleFormatter.cs (C# text on stdout).
# Cached powers 10^k, k = -348..348: f in [2^63, 2^64) rounded to nearest, 10^k ~= f * 2^e.
from fractions import Fraction
K0, STEP, K1 = -348, 1, 348
fs, es, ks = [], [], []
for k in range(K0, K1 + 1, STEP):
    x = Fraction(10) ** k
    # find e with 2^63 <= x / 2^e < 2^64
    e = x.numerator.bit_length() - x.denominator.bit_length() - 64
    while x / Fraction(2) ** e >= 2 ** 64: e += 1
    while x / Fraction(2) ** e < 2 ** 63: e -= 1
    q = x / Fraction(2) ** e
    f = (q.numerator * 2 + q.denominator) // (2 * q.denominator)  # round half up
    if f == 2 ** 64: f //= 2; e += 1
    assert 2 ** 63 <= f < 2 ** 64
    assert abs(Fraction(f) - q) <= Fraction(1, 2)
    fs.append(f); es.append(e); ks.append(k)
import sys
diffs = [es[i+1]-es[i] for i in range(len(es)-1)]
print(len(fs), ks[0], ks[-1], es[0], es[-1], min(diffs), max(diffs), file=sys.stderr)
if True:
    o = sys.stdout
    o.write('    private static ReadOnlySpan<ulong> CachedSignificands => new ulong[]\n    {\n')
    for i in range(0, len(fs), 4):
        o.write('        ' + ' '.join('0x%016X,' % f for f in fs[i:i+4]) + '\n')
    o.write('    };\n\n')
    o.write('    private static ReadOnlySpan<short> CachedBinaryExponents => new short[]\n    {\n')
    for i in range(0, len(es), 12):
        o.write('        ' + ' '.join('%d,' % e for e in es[i:i+12]) + '\n')
    o.write('    };\n')
