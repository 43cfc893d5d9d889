namespace NeuralBuild.Engine.Ir;

/// <summary>A constant tensor of the graph (weights, biases, BN statistics).</summary>
public sealed class Initializer(string name, Shape shape, TensorData? data, DataType dataType = DataType.Float32)
{
    public string Name { get; set; } = name;

    public Shape Shape { get; set; } = shape;

    public DataType DataType { get; } = dataType;

    /// <summary>Null when the model was opened without weights (analysis only needs shapes).</summary>
    public TensorData? Data { get; set; } = data;

    /// <summary>How the definition says to initialise it when no weights give its values (transplant); null when it says nothing.</summary>
    public ParameterFiller? Filler { get; init; }

    /// <summary>
    /// A value the model definition states rather than a learned parameter (a Caffe Eltwise
    /// coefficient, written in the prototxt): the cost model counts it in no parameter or weight-byte
    /// figure, and a transplant leaves it to the new definition.
    /// </summary>
    public bool Stated { get; init; }

    public long ByteSize => Shape.ElementCount * DataType.ByteSize();
}
