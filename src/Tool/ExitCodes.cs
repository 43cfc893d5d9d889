namespace NeuralBuild.Tool;

/// <summary>0 ok, 1 usage error or bad input, 2 budget or verification failure, 3 internal error (a bug, NM9000).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Failure = 2;
    public const int InternalError = 3;
}
