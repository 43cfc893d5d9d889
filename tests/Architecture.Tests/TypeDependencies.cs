using System.Reflection;
using System.Reflection.Emit;

namespace NeuralBuild.Architecture.Tests;

/// <summary>
/// Which types each type of an assembly uses: its base type, interfaces, fields, properties, method
/// signatures and every type, method or field token in its method bodies' IL. Compiler-generated
/// nested types (lambdas, iterators, async state machines) count for the type they were written in.
/// Reading IL rather than source finds uses that a <c>using</c> directive hides (a partially
/// qualified name) and ignores a stale <c>using</c> that uses nothing.
/// </summary>
internal static class TypeDependencies
{
    private const BindingFlags Everything =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> s_opCodes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Edges "written-in type → used type", for every type whose namespace starts with <paramref name="namespacePrefix"/>.</summary>
    public static IReadOnlyList<(Type From, Type To)> Of(Assembly assembly, string namespacePrefix)
    {
        var edges = new HashSet<(Type, Type)>();
        foreach (var type in assembly.GetTypes())
        {
            var owner = Outermost(type);
            if (owner.Namespace is not { } ns || !(ns == namespacePrefix || ns.StartsWith(namespacePrefix + ".", StringComparison.Ordinal)))
            {
                continue;
            }

            foreach (var used in UsedBy(type))
            {
                foreach (var leaf in Expand(used))
                {
                    edges.Add((owner, Outermost(leaf)));
                }
            }
        }

        return [.. edges];
    }

    /// <summary>Methods (and constructors) called by the method bodies of every type under <paramref name="namespacePrefix"/>, by written-in type.</summary>
    public static IReadOnlyList<(Type From, MethodBase Called)> Calls(Assembly assembly, string namespacePrefix)
    {
        var calls = new HashSet<(Type, MethodBase)>();
        foreach (var type in assembly.GetTypes())
        {
            var owner = Outermost(type);
            if (owner.Namespace is not { } ns || !(ns == namespacePrefix || ns.StartsWith(namespacePrefix + ".", StringComparison.Ordinal)))
            {
                continue;
            }

            foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
            {
                foreach (var called in MembersIn(method).OfType<MethodBase>())
                {
                    calls.Add((owner, called));
                }
            }
        }

        return [.. calls];
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }

    /// <summary>A type with its element and generic argument types (List&lt;Node&gt; uses Node).</summary>
    private static IEnumerable<Type> Expand(Type type)
    {
        if (type.IsGenericParameter)
        {
            yield break;
        }

        if (type.HasElementType)
        {
            foreach (var inner in Expand(type.GetElementType()!))
            {
                yield return inner;
            }

            yield break;
        }

        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments().SelectMany(Expand))
            {
                yield return argument;
            }

            type = type.GetGenericTypeDefinition();
        }

        yield return type;
    }

    private static IEnumerable<Type> UsedBy(Type type)
    {
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }

        foreach (var i in type.GetInterfaces())
        {
            yield return i;
        }

        foreach (var field in type.GetFields(Everything))
        {
            yield return field.FieldType;
        }

        foreach (var property in type.GetProperties(Everything))
        {
            yield return property.PropertyType;
        }

        var methods = type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything));
        foreach (var method in methods)
        {
            if (method is MethodInfo info)
            {
                yield return info.ReturnType;
            }

            foreach (var parameter in method.GetParameters())
            {
                yield return parameter.ParameterType;
            }

            foreach (var used in InBody(method))
            {
                yield return used;
            }
        }
    }

    /// <summary>Types named by the tokens of a method body (newobj, call, ldfld, castclass, ldtoken, …).</summary>
    private static IEnumerable<Type> InBody(MethodBase method)
    {
        foreach (var member in MembersIn(method))
        {
            if (member is Type t)
            {
                yield return t;
            }
            else if (member.DeclaringType is { } declaring)
            {
                yield return declaring;
                if (member is MethodInfo { IsGenericMethod: true } generic)
                {
                    foreach (var argument in generic.GetGenericArguments())
                    {
                        yield return argument;
                    }
                }
            }
        }
    }

    /// <summary>The types, methods and fields a method body's tokens name.</summary>
    private static IEnumerable<MemberInfo> MembersIn(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        var typeArguments = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var at = 0;
        while (at < il.Length)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            at += il[at] == 0xFE ? 2 : 1;
            var opCode = s_opCodes[value];
            switch (opCode.OperandType)
            {
                case OperandType.InlineType:
                case OperandType.InlineTok:
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                    if (method.Module.ResolveMember(BitConverter.ToInt32(il, at), typeArguments, methodArguments) is { } member)
                    {
                        yield return member;
                    }

                    at += 4;
                    break;
                case OperandType.InlineSwitch:
                    at += 4 + (4 * BitConverter.ToInt32(il, at));
                    break;
                default:
                    at += OperandSize(opCode.OperandType);
                    break;
            }
        }
    }

    private static int OperandSize(OperandType operand) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        _ => 4,
    };
}
