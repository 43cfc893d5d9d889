using System.Globalization;

namespace NeuralBuild.Engine.Analysis;

/// <summary>
/// Rounded figures for people, always printed beside the exact integer: <c>6.52 G (6,521,344,000)</c>.
/// Counts use SI prefixes, bytes IEC prefixes.
/// </summary>
public static class HumanUnits
{
    private static readonly string[] s_si = ["", "k", "M", "G", "T", "P", "E"];
    private static readonly string[] s_iec = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    public static string Count(long value) => Scale(value, 1000, s_si, string.Empty);

    public static string Bytes(long value) => Scale(value, 1024, s_iec, null);

    public static string Exact(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A change: <c>+1,234</c>, <c>-56</c>, <c>0</c>.</summary>
    public static string Signed(long value) => value.ToString("+#,0;-#,0;0", CultureInfo.InvariantCulture);

    public static string CountWithExact(long value) => $"{Count(value)} ({Exact(value)})";

    public static string BytesWithExact(long value) => $"{Bytes(value)} ({Exact(value)})";

    private static string Scale(long value, double step, string[] units, string? unitSuffix)
    {
        double v = value;
        var i = 0;
        while (Math.Abs(v) >= step && i < units.Length - 1)
        {
            v /= step;
            i++;
        }

        var number = i == 0 ? value.ToString(CultureInfo.InvariantCulture) : v.ToString(v >= 100 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
        var unit = units[i] + (unitSuffix ?? string.Empty);
        return unit.Length == 0 ? number : $"{number} {unit}";
    }
}
