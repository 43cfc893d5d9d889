using System.Globalization;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;
using NeuralBuild.SyntheticWeights;

// Usage: NeuralBuild.SyntheticWeights MODEL.cfg|MODEL.prototxt OUT.weights|OUT.caffemodel [seed]
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: NeuralBuild.SyntheticWeights MODEL.cfg OUT.weights [seed]");
    return 1;
}

try
{
    var model = ModelFormats.Read(args[0]);
    var seed = args.Length > 2 ? ulong.Parse(args[2], CultureInfo.InvariantCulture) : 1UL;
    var options = new SyntheticWeightsOptions { Seed = seed };
    var bytes = model.Format == "caffe" ? CaffeSyntheticWeights.Write(model, args[1], options) : DarknetSyntheticWeights.Write(model, args[1], options);
    Console.WriteLine($"{args[1]}: {bytes:N0} bytes (seed {seed})");
    return 0;
}
catch (NeuralException e)
{
    Console.Error.WriteLine(e.Diagnostic.ToString());
    return 1;
}
