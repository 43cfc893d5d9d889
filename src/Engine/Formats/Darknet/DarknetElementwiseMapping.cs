namespace NeuralBuild.Engine.Formats.Darknet;

/// <summary>
/// Layers that keep their input's layout: [softmax], [dropout], [activation], [normalization] (LRN) and
/// the pass-throughs [cost], [empty], [silence].
/// </summary>
internal static class DarknetElementwiseMapping
{
    public static string Softmax(DarknetSection layer)
    {
        var s = layer.Section;
        return layer.Emit("Softmax", [layer.Input], a =>
        {
            a.Set("groups", s.Positive("groups", 1)).Set("temperature", s.Float("temperature", 1));
            DarknetClassTree.SetGroups(a, s, "group_sizes");
        });
    }

    public static string Dropout(DarknetSection layer) =>
        layer.Emit("Dropout", [layer.Input], a => a.Set("probability", layer.Section.Float("probability", 0.2)), inPlace: true);

    public static string Identity(DarknetSection layer) => layer.Emit("Identity", [layer.Input], inPlace: true);

    public static string Activation(DarknetSection layer) =>
        layer.Emit("Activation", [layer.Input], a => layer.ActivationAttributes(a, layer.Section.String("activation", "linear")));

    public static string LocalResponseNormalization(DarknetSection layer)
    {
        var s = layer.Section;
        return layer.Emit("LRN", [layer.Input], a => a
            .Set("size", s.Positive("size", 5))
            .Set("alpha", s.Float("alpha", 0.0001))
            .Set("beta", s.Float("beta", 0.75))
            .Set("kappa", s.Float("kappa", 1)));
    }
}
