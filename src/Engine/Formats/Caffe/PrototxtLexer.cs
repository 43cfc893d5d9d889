using System.Globalization;
using System.Text;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats.Caffe;

internal enum PrototxtTokenKind
{
    Identifier,

    /// <summary>Decimal, octal (leading 0) or hexadecimal (0x) integer, without sign.</summary>
    Integer,

    /// <summary>Number with a fraction, an exponent or an f suffix, without sign.</summary>
    Float,

    /// <summary>Quoted string; <see cref="PrototxtToken.Bytes"/> holds the unescaped bytes.</summary>
    String,

    /// <summary>One of <c>{ } &lt; &gt; [ ] : , ; -</c>.</summary>
    Symbol,

    End,
}

internal sealed record PrototxtToken(PrototxtTokenKind Kind, string Text, int Line, int Column, byte[]? Bytes = null)
{
    public bool Is(string symbol) => Kind == PrototxtTokenKind.Symbol && Text == symbol;

    public string Describe() => Kind switch
    {
        PrototxtTokenKind.End => "the end of the file",
        PrototxtTokenKind.String => $"the string {Text}",
        _ => $"'{Text}'",
    };
}

/// <summary>
/// Splits protobuf text format into tokens, following the published text format specification:
/// whitespace and <c>#</c> comments separate tokens; identifiers; numbers (decimal, octal, hex,
/// floats with fraction / exponent / <c>f</c> suffix; a number directly followed by a letter or a
/// dot is an error); single- or double-quoted strings with C escapes (<c>\n \t \\ \' \" \?</c>,
/// octal <c>\ooo</c>, hex <c>\xHH</c>, <c>\uXXXX</c>, <c>\UXXXXXXXX</c>); punctuation. The sign of a
/// number is its own token. Every token carries its 1-based line and column; every lexical error
/// is NM0100 at the offending character.
/// </summary>
internal sealed class PrototxtLexer
{
    private readonly string _path;
    private readonly string _text;
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    public PrototxtLexer(string path, string text)
    {
        _path = path;
        _text = text;
        if (_text.Length > 0 && _text[0] == '\uFEFF')
        {
            _pos = 1;
            _lineStart = 1;
        }
    }

    public SourceLocation Here(int line, int column) => new(_path, line, column);

    public PrototxtToken Next()
    {
        SkipWhitespaceAndComments();
        var line = _line;
        var column = _pos - _lineStart + 1;
        if (_pos >= _text.Length)
        {
            return new PrototxtToken(PrototxtTokenKind.End, string.Empty, line, column);
        }

        var c = _text[_pos];
        if (IsIdentifierStart(c))
        {
            var start = _pos;
            while (_pos < _text.Length && IsIdentifierPart(_text[_pos]))
            {
                _pos++;
            }

            return new PrototxtToken(PrototxtTokenKind.Identifier, _text[start.._pos], line, column);
        }

        if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1])))
        {
            return Number(line, column);
        }

        if (c is '"' or '\'')
        {
            return QuotedString(line, column);
        }

        if (c is '{' or '}' or '<' or '>' or '[' or ']' or ':' or ',' or ';' or '-')
        {
            _pos++;
            return new PrototxtToken(PrototxtTokenKind.Symbol, c.ToString(), line, column);
        }

        throw Error(line, column, $"unexpected character '{Printable(c)}'.");
    }

    private void SkipWhitespaceAndComments()
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (c == '\n')
            {
                _pos++;
                _line++;
                _lineStart = _pos;
            }
            else if (c is ' ' or '\t' or '\r' or '\v' or '\f')
            {
                _pos++;
            }
            else if (c == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private PrototxtToken Number(int line, int column)
    {
        var start = _pos;
        var isFloat = false;
        if (_text[_pos] == '0' && _pos + 1 < _text.Length && _text[_pos + 1] is 'x' or 'X')
        {
            _pos += 2;
            var digitsStart = _pos;
            while (_pos < _text.Length && char.IsAsciiHexDigit(_text[_pos]))
            {
                _pos++;
            }

            if (_pos == digitsStart)
            {
                throw Error(line, column, $"'{_text[start.._pos]}' is not a hexadecimal number: digits must follow 0x.");
            }
        }
        else
        {
            SkipDigits();
            if (_pos < _text.Length && _text[_pos] == '.')
            {
                isFloat = true;
                _pos++;
                SkipDigits();
            }

            if (_pos < _text.Length && _text[_pos] is 'e' or 'E')
            {
                isFloat = true;
                _pos++;
                if (_pos < _text.Length && _text[_pos] is '+' or '-')
                {
                    _pos++;
                }

                var exponentStart = _pos;
                SkipDigits();
                if (_pos == exponentStart)
                {
                    throw Error(line, column, $"'{_text[start.._pos]}' has an exponent without digits.");
                }
            }

            if (_pos < _text.Length && _text[_pos] is 'f' or 'F')
            {
                isFloat = true;
                _pos++;
            }
        }

        // The specification forbids a number running straight into an identifier or another dot.
        if (_pos < _text.Length && (IsIdentifierPart(_text[_pos]) || _text[_pos] == '.'))
        {
            var end = _pos;
            while (end < _text.Length && (IsIdentifierPart(_text[end]) || _text[end] == '.'))
            {
                end++;
            }

            throw Error(line, column, $"'{_text[start..end]}' is not a number: a number must be followed by a space or punctuation.");
        }

        var text = _text[start.._pos];
        if (!isFloat && text.Length > 1 && text[0] == '0' && text[1] is not ('x' or 'X') && text.Any(ch => ch is '8' or '9'))
        {
            throw Error(line, column, $"'{text}' starts with 0, so it is octal, but has the digit 8 or 9.");
        }

        return new PrototxtToken(isFloat ? PrototxtTokenKind.Float : PrototxtTokenKind.Integer, text, line, column);
    }

    private void SkipDigits()
    {
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
        {
            _pos++;
        }
    }

    private PrototxtToken QuotedString(int line, int column)
    {
        var quote = _text[_pos];
        var start = _pos;
        _pos++;
        var bytes = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        while (true)
        {
            if (_pos >= _text.Length || _text[_pos] == '\n')
            {
                throw Error(line, column, $"the string starting here is not closed with {quote} before the end of the line.");
            }

            var c = _text[_pos];
            if (c == quote)
            {
                _pos++;
                break;
            }

            if (c != '\\')
            {
                var rune = Rune.GetRuneAt(_text, _pos);
                var n = rune.EncodeToUtf8(utf8);
                for (var i = 0; i < n; i++)
                {
                    bytes.Add(utf8[i]);
                }

                _pos += rune.Utf16SequenceLength;
                continue;
            }

            var escapeColumn = _pos - _lineStart + 1;
            _pos++;
            if (_pos >= _text.Length)
            {
                throw Error(line, escapeColumn, "the file ends inside an escape sequence.");
            }

            var e = _text[_pos++];
            switch (e)
            {
                case 'a': bytes.Add(0x07); break;
                case 'b': bytes.Add(0x08); break;
                case 'f': bytes.Add(0x0C); break;
                case 'n': bytes.Add(0x0A); break;
                case 'r': bytes.Add(0x0D); break;
                case 't': bytes.Add(0x09); break;
                case 'v': bytes.Add(0x0B); break;
                case '\\' or '\'' or '"' or '?': bytes.Add((byte)e); break;
                case >= '0' and <= '7':
                {
                    var value = e - '0';
                    for (var i = 0; i < 2 && _pos < _text.Length && _text[_pos] is >= '0' and <= '7'; i++)
                    {
                        value = (value * 8) + (_text[_pos++] - '0');
                    }

                    if (value > 0xFF)
                    {
                        throw Error(line, escapeColumn, $"octal escape \\{Convert.ToString(value, 8)} is larger than a byte.");
                    }

                    bytes.Add((byte)value);
                    break;
                }

                case 'x' or 'X':
                    bytes.Add((byte)HexEscape(line, escapeColumn, 1, 2));
                    break;
                case 'u':
                    AddCodePoint(bytes, HexEscape(line, escapeColumn, 4, 4), line, escapeColumn);
                    break;
                case 'U':
                    AddCodePoint(bytes, HexEscape(line, escapeColumn, 8, 8), line, escapeColumn);
                    break;
                default:
                    throw Error(line, escapeColumn, $"'\\{Printable(e)}' is not an escape sequence of the text format.");
            }
        }

        return new PrototxtToken(PrototxtTokenKind.String, _text[start.._pos], line, column, [.. bytes]);
    }

    private int HexEscape(int line, int column, int min, int max)
    {
        var value = 0;
        var digits = 0;
        while (digits < max && _pos < _text.Length && char.IsAsciiHexDigit(_text[_pos]))
        {
            value = (value * 16) + Convert.ToInt32(_text[_pos].ToString(), 16);
            _pos++;
            digits++;
        }

        if (digits < min)
        {
            throw Error(line, column, $"the escape sequence needs {min} hexadecimal digit(s).");
        }

        return value;
    }

    private void AddCodePoint(List<byte> bytes, int codePoint, int line, int column)
    {
        if (!Rune.IsValid(codePoint))
        {
            throw Error(line, column, string.Create(CultureInfo.InvariantCulture, $"U+{codePoint:X} is not a Unicode scalar value."));
        }

        Span<byte> utf8 = stackalloc byte[4];
        var n = new Rune(codePoint).EncodeToUtf8(utf8);
        for (var i = 0; i < n; i++)
        {
            bytes.Add(utf8[i]);
        }
    }

    private NeuralException Error(int line, int column, string message) =>
        DiagnosticCodes.PrototxtSyntax.Exception(Here(line, column), message);

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static string Printable(char c) => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString();
}
