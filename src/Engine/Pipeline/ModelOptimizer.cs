using NeuralBuild.Engine.Analysis;
using NeuralBuild.Engine.Diagnostics;
using NeuralBuild.Engine.Formats;

namespace NeuralBuild.Engine.Pipeline;

/// <summary>
/// The one entry point the MSBuild task and <c>dotnet neural fuse</c> share: read, fold, verify,
/// write (to temp files moved into place), analyse before and after.
/// </summary>
public static class ModelOptimizer
{
    public static OptimizeResult Optimize(OptimizeRequest request)
    {
        var format = ModelFormats.ForPath(request.DefinitionPath);
        var weights = request.WeightsPath ?? format.DefaultWeightsPath(request.DefinitionPath);
        if (!File.Exists(weights))
        {
            throw DiagnosticCodes.FileNotFound.Exception(new SourceLocation(request.DefinitionPath),
                $"Weights '{weights}' for '{Path.GetFileName(request.DefinitionPath)}' do not exist; set the Weights metadata or place them next to the definition.");
        }

        var model = format.Read(request.DefinitionPath, new ModelReadOptions { WeightsPath = weights, InputShape = request.InputShape, DarknetDialect = request.Dialect });
        var before = CostModel.Analyze(model);

        // TODO(issue 3): passes, verification and the format writer replace this copy.
        Directory.CreateDirectory(request.OutputDirectory);
        var outDefinition = Path.Combine(request.OutputDirectory, Path.GetFileName(request.DefinitionPath));
        var outWeights = Path.Combine(request.OutputDirectory, Path.GetFileName(weights));
        CopyAtomically(request.DefinitionPath, outDefinition);
        CopyAtomically(weights, outWeights);
        return new OptimizeResult
        {
            OptimizedDefinitionPath = outDefinition,
            OptimizedWeightsPath = outWeights,
            Before = before,
            After = before,
        };
    }

    private static void CopyAtomically(string source, string destination)
    {
        var temp = destination + ".tmp";
        File.Copy(source, temp, overwrite: true);
        File.Move(temp, destination, overwrite: true);
    }
}
