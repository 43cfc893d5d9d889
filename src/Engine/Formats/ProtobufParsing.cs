using Google.Protobuf;
using NeuralBuild.Engine.Diagnostics;

namespace NeuralBuild.Engine.Formats;

/// <summary>
/// Parses a protobuf message from a model file (ONNX, caffemodel) and turns every way a damaged
/// file can fail to parse into one coded error. Google.Protobuf reports most damage as
/// <see cref="InvalidProtocolBufferException"/>, but a length field near 2^31 makes its string and
/// bytes readers fail with <see cref="ArgumentOutOfRangeException"/> or an index/overflow exception
/// instead (found by tools/Fuzzer): all of them mean "this is not a well-formed message".
/// </summary>
internal static class ProtobufParsing
{
    public static T Parse<T>(Func<T> parse, DiagnosticDescriptor malformed, string path, Func<string, string> describe)
        where T : IMessage<T>
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException)
        {
            throw malformed.Exception(new SourceLocation(path), describe(e is InvalidProtocolBufferException ? e.Message : "a length or index field points outside the file"));
        }
    }
}
