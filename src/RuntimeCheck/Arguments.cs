namespace NeuralBuild.RuntimeCheck;

/// <summary><c>--name value</c> pairs, a name given once or several times. The caller is the build's task, not a person: a missing or repeated name is an <see cref="ArgumentException"/>.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public static Arguments Parse(IReadOnlyList<string> args)
    {
        var parsed = new Arguments();
        for (var i = 0; i < args.Count; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
            {
                throw new ArgumentException($"expected --name value pairs, found '{args[i]}'");
            }

            if (!parsed._values.TryGetValue(args[i], out var list))
            {
                parsed._values[args[i]] = list = [];
            }

            list.Add(args[i + 1]);
        }

        return parsed;
    }

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public string? Optional(string name) => All(name) switch
    {
        [] => null,
        [var one] => one,
        _ => throw new ArgumentException($"{name} is given more than once"),
    };

    public string Single(string name) => Optional(name) ?? throw new ArgumentException($"{name} is required");
}
