namespace NeuralBuild.Engine.Ir;

public enum DataType
{
    Float32,
    Float16,
    Int64,
    Int32,
    UInt8,
}

public static class DataTypeExtensions
{
    public static int ByteSize(this DataType type) => type switch
    {
        DataType.Float32 or DataType.Int32 => 4,
        DataType.Float16 => 2,
        DataType.Int64 => 8,
        DataType.UInt8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
