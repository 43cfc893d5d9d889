using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Writes a message as readable, diffable protobuf text: two-space indentation, one field per
/// line, fields in descriptor (declaration) order, repeated values as repeated lines, messages as
/// <c>name {</c> … <c>}</c>, enums by name, floats in their shortest form that reads back to the
/// same bits (<c>inf</c>, <c>-inf</c>, <c>nan</c> for the special values). A field is written
/// when it is present: set optional fields (even at their default), non-empty repeated fields,
/// non-null messages. Binary unknown fields have no text form and are not written.
/// </summary>
public static class PrototxtWriter
{
    public static string Write(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var sb = new StringBuilder();
        WriteFields(sb, message, 0);
        return sb.ToString();
    }

    private static void WriteFields(StringBuilder sb, IMessage message, int depth)
    {
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            if (field.IsRepeated)
            {
                foreach (var item in (IList)field.Accessor.GetValue(message))
                {
                    WriteField(sb, field, item!, depth);
                }
            }
            else if (field.HasPresence ? field.Accessor.HasValue(message) : !IsDefault(field.Accessor.GetValue(message)))
            {
                WriteField(sb, field, field.Accessor.GetValue(message), depth);
            }
        }
    }

    private static void WriteField(StringBuilder sb, FieldDescriptor field, object value, int depth)
    {
        sb.Append(' ', depth * 2).Append(field.Name);
        if (value is IMessage child)
        {
            sb.Append(" {\n");
            WriteFields(sb, child, depth + 1);
            sb.Append(' ', depth * 2).Append("}\n");
            return;
        }

        sb.Append(": ").Append(Scalar(field, value)).Append('\n');
    }

    private static string Scalar(FieldDescriptor field, object value) => field.FieldType switch
    {
        FieldType.String => Quote(Encoding.UTF8.GetBytes((string)value), keepUtf8: true),
        FieldType.Bytes => Quote(((ByteString)value).ToByteArray(), keepUtf8: false),
        FieldType.Bool => (bool)value ? "true" : "false",
        FieldType.Enum => field.EnumType.FindValueByNumber(Convert.ToInt32(value, CultureInfo.InvariantCulture)) is { } v
            ? v.Name
            : Convert.ToInt32(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
        FieldType.Float => FormatFloat((float)value),
        FieldType.Double => FormatDouble((double)value),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    /// <summary>Shortest text that parses back to the same float (.NET's "R" is the shortest round-trip form).</summary>
    public static string FormatFloat(float value) =>
        float.IsNaN(value) ? "nan"
        : float.IsPositiveInfinity(value) ? "inf"
        : float.IsNegativeInfinity(value) ? "-inf"
        : Lower(value.ToString("R", CultureInfo.InvariantCulture));

    public static string FormatDouble(double value) =>
        double.IsNaN(value) ? "nan"
        : double.IsPositiveInfinity(value) ? "inf"
        : double.IsNegativeInfinity(value) ? "-inf"
        : Lower(value.ToString("R", CultureInfo.InvariantCulture));

    // "1E-05" reads back fine but "1e-05" is how prototxt files write it.
    private static string Lower(string number) => number.Replace('E', 'e');

    private static bool IsDefault(object value) => value switch
    {
        string s => s.Length == 0,
        ByteString b => b.IsEmpty,
        bool b => !b,
        float f => BitConverter.SingleToInt32Bits(f) == 0,
        double d => BitConverter.DoubleToInt64Bits(d) == 0,
        System.Enum e => Convert.ToInt64(e, CultureInfo.InvariantCulture) == 0,
        IConvertible c => c.ToInt64(CultureInfo.InvariantCulture) == 0 && c.ToUInt64(CultureInfo.InvariantCulture) == 0,
        _ => value is null,
    };

    private static string Quote(byte[] bytes, bool keepUtf8)
    {
        var sb = new StringBuilder("\"");
        var i = 0;
        while (i < bytes.Length)
        {
            var b = bytes[i];
            switch (b)
            {
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case < 0x20 or 0x7F:
                    sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
                    break;
                case < 0x80:
                    sb.Append((char)b);
                    break;
                default:
                    // Text stays readable: a valid UTF-8 sequence is copied as its character.
                    if (keepUtf8 && Rune.DecodeFromUtf8(bytes.AsSpan(i), out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
                    {
                        sb.Append(rune.ToString());
                        i += consumed;
                        continue;
                    }

                    sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
                    break;
            }

            i++;
        }

        return sb.Append('"').ToString();
    }
}
