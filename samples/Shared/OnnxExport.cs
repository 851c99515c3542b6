using System.Text;
using Google.Protobuf;

namespace Mlflow.Samples;

/// <summary>
/// Completes what ML.NET's ONNX converter writes: it puts the text featurizer's <c>Tokenizer</c> node in ONNX
/// Runtime's <c>com.microsoft</c> domain without importing that domain, and onnx's checker, which
/// <c>mlflow.onnx.load_model</c> runs, refuses such a graph ("No opset import for domain 'com.microsoft'").
/// </summary>
internal static class OnnxExport
{
    private const string MicrosoftDomain = "com.microsoft";

    // ModelProto.opset_import is field 8 (a repeated OperatorSetIdProto: domain field 1, version field 2).
    private const int OpsetImportField = 8;

    /// <summary>
    /// Returns <paramref name="model"/> (a serialized ONNX <c>ModelProto</c>) with an opset import of
    /// <c>com.microsoft</c> version 1 when the model uses that domain and does not import it; else the model as is.
    /// Protobuf merges a repeated field's entries wherever they stand, so the import is appended to the bytes.
    /// </summary>
    public static byte[] ImportMicrosoftDomain(byte[] model)
    {
        if (model.AsSpan().IndexOf(Encoding.UTF8.GetBytes(MicrosoftDomain)) >= 0 && !ImportedDomains(model).Contains(MicrosoftDomain))
        {
            using var output = new MemoryStream();
            output.Write(model);
            var coded = new CodedOutputStream(output);
            coded.WriteTag(OpsetImportField, WireFormat.WireType.LengthDelimited);
            coded.WriteBytes(OperatorSetId(MicrosoftDomain, 1));
            coded.Flush();
            return output.ToArray();
        }

        return model;
    }

    /// <summary>The domains of the model's opset imports (<c>""</c> for the default ONNX domain).</summary>
    public static IReadOnlyList<string> ImportedDomains(byte[] model)
    {
        var domains = new List<string>();
        var input = new CodedInputStream(model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == OpsetImportField && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                var entry = new CodedInputStream(input.ReadBytes().ToByteArray());
                var domain = "";
                uint inner;
                while ((inner = entry.ReadTag()) != 0)
                {
                    if (WireFormat.GetTagFieldNumber(inner) == 1 && WireFormat.GetTagWireType(inner) == WireFormat.WireType.LengthDelimited)
                    {
                        domain = entry.ReadString();
                    }
                    else
                    {
                        entry.SkipLastField();
                    }
                }

                domains.Add(domain);
            }
            else
            {
                input.SkipLastField();
            }
        }

        return domains;
    }

    private static ByteString OperatorSetId(string domain, long version)
    {
        using var bytes = new MemoryStream();
        var coded = new CodedOutputStream(bytes);
        coded.WriteTag(1, WireFormat.WireType.LengthDelimited);
        coded.WriteString(domain);
        coded.WriteTag(2, WireFormat.WireType.Varint);
        coded.WriteInt64(version);
        coded.Flush();
        return ByteString.CopyFrom(bytes.ToArray());
    }
}
