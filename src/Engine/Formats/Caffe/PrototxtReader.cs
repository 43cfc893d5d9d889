using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Parses protobuf text format into a generated message, driven by its descriptor (Google.Protobuf
/// for C# has no text parser). Accepts what the text format specification allows: <c>name: value</c>
/// for scalars; <c>name { … }</c>, <c>name &lt; … &gt;</c> and <c>name: { … }</c> for messages;
/// repeated fields as repeated entries or <c>[a, b]</c> lists; enums by name or number; booleans
/// as true/false/t/f/True/False/1/0; adjacent strings concatenated; <c>-</c> before numbers,
/// <c>inf</c> and <c>nan</c>; optional <c>,</c> or <c>;</c> after each field.
/// <para>Errors carry file, line and column: NM0100 for malformed text, NM0101 for a value that
/// does not fit its field (wrong kind, out of range, unknown enum name), NM0102 for a field name the
/// schema does not declare. A singular field given twice is NM0100, as in protobuf's own parser.</para>
/// </summary>
public static class PrototxtReader
{
    public static T Parse<T>(string path, string text, out PrototxtSourceMap sourceMap)
        where T : IMessage<T>, new()
    {
        ArgumentNullException.ThrowIfNull(text);
        var message = new T();
        sourceMap = new PrototxtSourceMap(path);
        var parser = new Parser(new PrototxtLexer(path, text), sourceMap);
        sourceMap.Begin(message, new SourceLocation(path, 1, 1));
        parser.ParseFields(message, closing: null, opener: null);
        return message;
    }

    private sealed class Parser(PrototxtLexer lexer, PrototxtSourceMap map)
    {
        private PrototxtToken? _peeked;

        private PrototxtToken Peek() => _peeked ??= lexer.Next();

        private PrototxtToken Take()
        {
            var token = Peek();
            _peeked = null;
            return token;
        }

        private SourceLocation At(PrototxtToken token) => lexer.Here(token.Line, token.Column);

        private NeuralException Syntax(PrototxtToken token, string message) =>
            DiagnosticCodes.PrototxtSyntax.Exception(At(token), message);

        private NeuralException BadValue(PrototxtToken token, string message) =>
            DiagnosticCodes.PrototxtBadValue.Exception(At(token), message);

        public void ParseFields(IMessage message, string? closing, PrototxtToken? opener)
        {
            var descriptor = message.Descriptor;
            var seen = new HashSet<int>();
            while (true)
            {
                var token = Peek();
                if (closing is not null && token.Is(closing))
                {
                    Take();
                    return;
                }

                if (token.Kind == PrototxtTokenKind.End)
                {
                    if (closing is not null)
                    {
                        throw Syntax(opener!, $"'{opener!.Text}' opened here is not closed with '{closing}' before the end of the file (line {token.Line}).");
                    }

                    return;
                }

                if (token.Is("["))
                {
                    throw Syntax(token, "extension and Any fields ([name]) are not part of Caffe's schema.");
                }

                if (token.Kind != PrototxtTokenKind.Identifier)
                {
                    var expected = closing is null ? "a field name" : $"a field name or '{closing}'";
                    throw Syntax(token, $"expected {expected} but found {token.Describe()}.");
                }

                Take();
                var field = descriptor.FindFieldByName(token.Text)
                    ?? throw DiagnosticCodes.PrototxtUnknownField.Exception(At(token),
                        $"{descriptor.FullName} has no field '{token.Text}' in Caffe's schema (known: {KnownFields(descriptor)}). Check the spelling; a field of a Caffe fork that NeuralBuild does not know is not supported.");

                if (!field.IsRepeated && !seen.Add(field.FieldNumber))
                {
                    throw Syntax(token, $"'{field.Name}' is not a repeated field of {descriptor.FullName} but is given again (first at {map.Of(message, field.FieldNumber)}).");
                }

                ParseField(message, field, token);
                if (Peek().Is(",") || Peek().Is(";"))
                {
                    Take();
                }
            }
        }

        private void ParseField(IMessage message, FieldDescriptor field, PrototxtToken name)
        {
            var isMessage = field.FieldType is FieldType.Message or FieldType.Group;
            if (Peek().Is(":"))
            {
                Take();
            }
            else if (!isMessage)
            {
                throw Syntax(Peek(), $"expected ':' after '{field.Name}' but found {Peek().Describe()}.");
            }

            if (Peek().Is("["))
            {
                var open = Take();
                if (!field.IsRepeated)
                {
                    throw Syntax(open, $"'{field.Name}' is not repeated, so it cannot take a [ … ] list.");
                }

                if (Peek().Is("]"))
                {
                    Take();
                    return;
                }

                while (true)
                {
                    ParseValue(message, field, isMessage ? Peek() : name, isMessage);
                    var next = Take();
                    if (next.Is("]"))
                    {
                        return;
                    }

                    if (!next.Is(","))
                    {
                        throw Syntax(next, $"expected ',' or ']' in the list of '{field.Name}' but found {next.Describe()}.");
                    }
                }
            }

            ParseValue(message, field, name, isMessage);
        }

        private void ParseValue(IMessage message, FieldDescriptor field, PrototxtToken name, bool isMessage)
        {
            if (isMessage)
            {
                var open = Take();
                var close = open.Is("{") ? "}" : open.Is("<") ? ">" : null;
                if (close is null)
                {
                    throw Syntax(open, $"expected '{{' to start the message '{field.Name}' ({field.MessageType.FullName}) but found {open.Describe()}.");
                }

                var child = field.IsRepeated ? field.MessageType.Parser.ParseFrom(ByteString.Empty) : GetOrCreateChild(message, field);
                map.Begin(child, At(name));
                map.Add(message, field.FieldNumber, At(name));
                ParseFields(child, close, open);
                if (field.IsRepeated)
                {
                    ((IList)field.Accessor.GetValue(message)).Add(child);
                }

                return;
            }

            var first = Peek();
            var value = ParseScalar(field);
            map.Add(message, field.FieldNumber, At(first));
            if (field.IsRepeated)
            {
                ((IList)field.Accessor.GetValue(message)).Add(value);
            }
            else
            {
                field.Accessor.SetValue(message, value);
            }
        }

        private static IMessage GetOrCreateChild(IMessage message, FieldDescriptor field)
        {
            var child = field.MessageType.Parser.ParseFrom(ByteString.Empty);
            field.Accessor.SetValue(message, child);
            return child;
        }

        private object ParseScalar(FieldDescriptor field)
        {
            switch (field.FieldType)
            {
                case FieldType.String:
                {
                    var (bytes, token) = Strings(field);
                    try
                    {
                        return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
                    }
                    catch (DecoderFallbackException)
                    {
                        throw BadValue(token, $"the value of '{field.Name}' is not valid UTF-8 text; string fields hold text (escapes such as \\377 produce raw bytes).");
                    }
                }

                case FieldType.Bytes:
                    return ByteString.CopyFrom(Strings(field).Bytes);
                case FieldType.Bool:
                    return Bool(field);
                case FieldType.Enum:
                    return Enum(field);
                case FieldType.Float:
                    return (float)Real(field, isFloat: true);
                case FieldType.Double:
                    return Real(field, isFloat: false);
                case FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32:
                    return (int)Integer(field, int.MinValue, int.MaxValue);
                case FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64:
                    return (long)Integer(field, long.MinValue, long.MaxValue);
                case FieldType.UInt32 or FieldType.Fixed32:
                    return (uint)Integer(field, 0, uint.MaxValue);
                case FieldType.UInt64 or FieldType.Fixed64:
                    return UInt64(field);
                default:
                    throw BadValue(Peek(), $"field '{field.Name}' has type {field.FieldType}, which the prototxt reader does not handle.");
            }
        }

        private (byte[] Bytes, PrototxtToken Token) Strings(FieldDescriptor field)
        {
            var token = Take();
            if (token.Kind != PrototxtTokenKind.String)
            {
                throw BadValue(token, $"'{field.Name}' takes a quoted string but the value is {token.Describe()}.");
            }

            var bytes = new List<byte>(token.Bytes!);
            while (Peek().Kind == PrototxtTokenKind.String)
            {
                bytes.AddRange(Take().Bytes!);
            }

            return ([.. bytes], token);
        }

        private bool Bool(FieldDescriptor field)
        {
            var token = Take();
            return token.Text switch
            {
                "true" or "True" or "t" when token.Kind == PrototxtTokenKind.Identifier => true,
                "false" or "False" or "f" when token.Kind == PrototxtTokenKind.Identifier => false,
                "1" when token.Kind == PrototxtTokenKind.Integer => true,
                "0" when token.Kind == PrototxtTokenKind.Integer => false,
                _ => throw BadValue(token, $"'{field.Name}' takes true or false but the value is {token.Describe()}."),
            };
        }

        private object Enum(FieldDescriptor field)
        {
            var type = field.EnumType;
            var token = Peek();
            EnumValueDescriptor? value;
            if (token.Kind == PrototxtTokenKind.Identifier)
            {
                Take();
                value = type.FindValueByName(token.Text);
            }
            else
            {
                var number = Integer(field, int.MinValue, int.MaxValue);
                value = type.FindValueByNumber((int)number);
            }

            if (value is null)
            {
                throw BadValue(token, $"{token.Describe()} is not a value of {type.FullName} (field '{field.Name}'); use one of {string.Join(", ", type.Values.Select(v => v.Name))}.");
            }

            return System.Enum.ToObject(type.ClrType, value.Number);
        }

        private double Real(FieldDescriptor field, bool isFloat)
        {
            var negative = TakeSign();
            var token = Take();
            double value;
            if (token.Kind == PrototxtTokenKind.Identifier && token.Text.ToUpperInvariant() is "INF" or "INFINITY")
            {
                value = double.PositiveInfinity;
            }
            else if (token.Kind == PrototxtTokenKind.Identifier && token.Text.Equals("nan", StringComparison.OrdinalIgnoreCase))
            {
                value = double.NaN;
            }
            else if (token.Kind == PrototxtTokenKind.Float || (token.Kind == PrototxtTokenKind.Integer && !token.Text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)))
            {
                var text = token.Text.TrimEnd('f', 'F');

                // A float field parses straight to float: correctly rounded once, so what the
                // writer prints (shortest round-trip form) reads back bit for bit.
                value = isFloat
                    ? float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
                    : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
            else
            {
                throw BadValue(token, $"'{field.Name}' takes a number but the value is {token.Describe()}.");
            }

            return negative ? -value : value;
        }

        private long Integer(FieldDescriptor field, long min, long max)
        {
            var signToken = Peek();
            var negative = TakeSign();
            var token = Take();
            var magnitude = Magnitude(field, token);
            if (negative)
            {
                if (min >= 0 || magnitude > (ulong)long.MaxValue + 1)
                {
                    throw BadValue(signToken, $"'{field.Name}' ({Describe(field.FieldType)}) cannot be -{token.Text}.");
                }

                var v = magnitude == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)magnitude;
                return v >= min
                    ? v
                    : throw BadValue(signToken, $"-{token.Text} is out of range for '{field.Name}' ({Describe(field.FieldType)}, smallest {min}).");
            }

            return magnitude <= (ulong)max
                ? (long)magnitude
                : throw BadValue(token, $"{token.Text} is out of range for '{field.Name}' ({Describe(field.FieldType)}, largest {max}).");
        }

        private ulong UInt64(FieldDescriptor field)
        {
            if (Peek().Is("-"))
            {
                throw BadValue(Peek(), $"'{field.Name}' is unsigned and cannot be negative.");
            }

            return Magnitude(field, Take());
        }

        private ulong Magnitude(FieldDescriptor field, PrototxtToken token)
        {
            if (token.Kind != PrototxtTokenKind.Integer)
            {
                throw BadValue(token, $"'{field.Name}' takes an integer ({Describe(field.FieldType)}) but the value is {token.Describe()}.");
            }

            var text = token.Text;
            try
            {
                if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                {
                    return ulong.Parse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                }

                return text.Length > 1 && text[0] == '0'
                    ? Convert.ToUInt64(text, 8)
                    : ulong.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
            }
            catch (OverflowException)
            {
                throw BadValue(token, $"{text} does not fit 64 bits ('{field.Name}').");
            }
        }

        private bool TakeSign()
        {
            if (!Peek().Is("-"))
            {
                return false;
            }

            Take();
            return true;
        }

        private static string Describe(FieldType type) => type.ToString().ToLowerInvariant();

        private static string KnownFields(MessageDescriptor descriptor)
        {
            var names = descriptor.Fields.InDeclarationOrder().Select(f => f.Name).ToList();
            return names.Count <= 12 ? string.Join(", ", names) : string.Join(", ", names.Take(12)) + ", …";
        }
    }
}
