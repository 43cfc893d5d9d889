namespace NeuralBuild.Tool;

/// <summary>0 ok, 1 usage error or bad input, 2 budget or verification failure.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Failure = 2;
}
