using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Mlflow.Client.Tracing;

/// <summary>
/// The protocol buffers wire format (proto3), the few field kinds OTLP's trace messages use: varints (enums, int64,
/// bool), fixed64 (times), double, and length-delimited fields (strings, bytes, nested messages). A nested message is
/// written into its own writer and then copied in with its length, as the format needs the length first.
/// </summary>
internal sealed class ProtoWireWriter
{
    private const int VarintWireType = 0;
    private const int Fixed64WireType = 1;
    private const int LengthDelimitedWireType = 2;

    /// <summary>Strict UTF-8: a lone surrogate throws instead of becoming U+FFFD (protobuf refuses invalid UTF-8, and a changed text would be a silent loss).</summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>The bytes written so far.</summary>
    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    /// <summary>A varint field (enum, int64, uint32, bool); a negative int64 takes ten bytes, as protobuf writes it.</summary>
    public void WriteVarintField(int field, long value)
    {
        WriteTag(field, VarintWireType);
        WriteVarint(unchecked((ulong)value));
    }

    /// <summary>A fixed64 field (OTLP's times).</summary>
    public void WriteFixed64Field(int field, ulong value)
    {
        WriteTag(field, Fixed64WireType);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    /// <summary>A double field.</summary>
    public void WriteDoubleField(int field, double value)
        => WriteFixed64Field(field, unchecked((ulong)BitConverter.DoubleToInt64Bits(value)));

    /// <summary>A string field, UTF-8.</summary>
    /// <exception cref="EncoderFallbackException">The text holds a lone surrogate, which UTF-8 cannot carry.</exception>
    public void WriteStringField(int field, string value) => WriteBytesField(field, StrictUtf8.GetBytes(value));

    /// <summary>A bytes field.</summary>
    public void WriteBytesField(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, LengthDelimitedWireType);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
    }

    /// <summary>A nested message field, written by <paramref name="writeMessage"/> (an empty message is still written: present, length 0).</summary>
    public void WriteMessageField(int field, Action<ProtoWireWriter> writeMessage)
    {
        var nested = new ProtoWireWriter();
        writeMessage(nested);
        WriteBytesField(field, nested._buffer.WrittenSpan);
    }

    private void WriteTag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        WriteByte((byte)value);
    }

    private void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }
}
