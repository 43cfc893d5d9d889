namespace NeuralBuild.Architecture.Tests;

/// <summary>
/// The engine's layering rules (docs/architecture.md), stated once and checked against the edges
/// <see cref="TypeDependencies"/> finds. A layer is a namespace under the root: <c>Ir</c>, <c>Ops</c>,
/// <c>Passes</c>, …; each format is a layer of its own (<c>Formats.Onnx</c>), and <c>Formats</c>
/// alone is what they share (the format list, atomic writes).
/// </summary>
internal static class Layering
{
    /// <summary>What the IR may use: nothing that builds on it.</summary>
    private static readonly string[] s_irMayUse = ["Ir", "Diagnostics", "Numerics"];

    /// <summary>Layers that work on the IR and must not know where a model came from.</summary>
    private static readonly string[] s_formatNeutral = ["Ir", "Ops", "Passes", "Analysis", "Execution", "Reporting"];

    /// <summary>Host libraries the engine must not depend on: it runs under MSBuild and in the tool alike.</summary>
    private static readonly string[] s_hostNamespaces = ["Microsoft.Build", "System.CommandLine", "System.Console"];

    public static string? LayerOf(Type type, string root)
    {
        var ns = type.Namespace ?? string.Empty;
        if (ns != root && !ns.StartsWith(root + ".", StringComparison.Ordinal))
        {
            return null;
        }

        var parts = ns.Length == root.Length ? [] : ns[(root.Length + 1)..].Split('.');
        return parts.Length switch
        {
            0 => string.Empty,
            1 => parts[0],
            _ when parts[0] == "Formats" => $"Formats.{parts[1]}",
            _ => parts[0],
        };
    }

    /// <summary>One line per broken rule: "Ir.Node uses Formats.Onnx.OnnxModel (the IR uses only …)".</summary>
    public static IReadOnlyList<string> Violations(IEnumerable<(Type From, Type To)> edges, string root)
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (from, to) in edges)
        {
            var fromLayer = LayerOf(from, root);
            if (fromLayer is null)
            {
                continue;
            }

            var why = Rule(fromLayer, LayerOf(to, root), to);
            if (why is not null)
            {
                violations.Add($"{Name(from, root)} uses {Name(to, root)}: {why}");
            }
        }

        return [.. violations];
    }

    /// <summary>The reads of <c>Ir.Attributes</c> by name; writing them (<c>Set</c>) is what readers do.</summary>
    private static readonly string[] s_attributeReads = ["Has", "Int", "Ints", "Float", "Floats", "String"];

    /// <summary>
    /// One line per read of a node attribute by name outside the operators: "Passes.FoldBatchNorm reads
    /// Ir.Attributes.Int by name …". Only an operator parses its attributes; every other part reads its
    /// typed record, so an attribute's name, type and default live in one place.
    /// </summary>
    public static IReadOnlyList<string> AttributeReadsOutsideOperators(IEnumerable<(Type From, System.Reflection.MethodBase Called)> calls, string root)
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (from, called) in calls)
        {
            var layer = LayerOf(from, root);
            if (layer is null or "Ops" or "Ir" || called.DeclaringType?.FullName != root + ".Ir.Attributes" || !s_attributeReads.Contains(called.Name))
            {
                continue;
            }

            violations.Add($"{Name(from, root)} reads Ir.Attributes.{called.Name} by name: only an operator reads its attributes by name; others use its typed record");
        }

        return [.. violations];
    }

    private static string? Rule(string fromLayer, string? toLayer, Type to)
    {
        if (toLayer is null)
        {
            var external = to.FullName ?? to.Name;
            return s_hostNamespaces.Any(h => external == h || external.StartsWith(h + ".", StringComparison.Ordinal))
                ? "the engine uses no MSBuild or console library (Tasks and Tool are its hosts)"
                : null;
        }

        if (fromLayer == "Ir" && !s_irMayUse.Contains(toLayer))
        {
            return $"the IR uses only {string.Join(", ", s_irMayUse)}";
        }

        if (s_formatNeutral.Contains(fromLayer) && IsFormat(toLayer))
        {
            return $"{fromLayer} is format-neutral and uses no format";
        }

        if (fromLayer == "Pipeline" && toLayer.StartsWith("Formats.", StringComparison.Ordinal))
        {
            return "the pipeline reaches formats only through IModelFormat and ModelFormats";
        }

        if (IsFormat(fromLayer) && fromLayer != "Formats" && IsFormat(toLayer) && toLayer != "Formats" && toLayer != fromLayer)
        {
            return "formats are independent of each other";
        }

        return null;
    }

    private static bool IsFormat(string layer) => layer == "Formats" || layer.StartsWith("Formats.", StringComparison.Ordinal);

    private static string Name(Type type, string root) =>
        type.FullName is { } full && full.StartsWith(root + ".", StringComparison.Ordinal) ? full[(root.Length + 1)..] : type.FullName ?? type.Name;
}
