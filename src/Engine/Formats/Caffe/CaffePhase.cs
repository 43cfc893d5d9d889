using NeuralBuild.Engine.Formats.Caffe.Proto;

namespace NeuralBuild.Engine.Formats.Caffe;

/// <summary>
/// Caffe's include / exclude rules, evaluated for inference: phase TEST, with the level and
/// stages of the net's own <c>state</c> (default level 0, no stages). A layer with include rules
/// runs when any rule is met; a layer with exclude rules runs unless one is met; a rule is met
/// when its phase (if given) is TEST, the level lies in [min_level, max_level] (where given), every
/// <c>stage</c> is among the net's stages and no <c>not_stage</c> is.
/// </summary>
internal static class CaffePhase
{
    public static bool IsIncluded(LayerParameter layer, NetState? state)
    {
        var level = state?.Level ?? 0;
        var stages = new HashSet<string>(state?.Stage ?? [], StringComparer.Ordinal);
        bool Meets(NetStateRule rule) =>
            (!rule.HasPhase || rule.Phase == Phase.Test)
            && (!rule.HasMinLevel || level >= rule.MinLevel)
            && (!rule.HasMaxLevel || level <= rule.MaxLevel)
            && rule.Stage.All(stages.Contains)
            && !rule.NotStage.Any(stages.Contains);

        if (layer.Include.Count > 0)
        {
            return layer.Include.Any(Meets);
        }

        return !layer.Exclude.Any(Meets);
    }
}
