using System.CommandLine;
using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Engine;

namespace TokenIdle.Cli.Commands;

/// <summary>Runs a verb's body and turns any failure, running out of memory included, into one line on standard error and exit code 1.</summary>
internal static class CommandRunner
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (InsufficientMemoryException e)
        {
            // A run refused before it started, by the memory estimate: its message names the estimate and the flags that lower it.
            Console.Error.WriteLine($"tokenidle: error: {e.Message}");
            return 1;
        }
        catch (OutOfMemoryException e)
        {
            // Nothing is allocated here: the message is a constant and the failed request's memory was never granted.
            Console.Error.WriteLine($"tokenidle: error: out of memory ({e.Message}); use smaller inputs, a smaller --batch-size or a machine with more memory");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"tokenidle: error: {ErrorMessages.OneLine(TorchEngine.WithoutNativeTrace(TransformerSteps.Reason(e).Message))}");
            return 1;
        }
    }

    public static void SetThreads(int? threads)
    {
        if (threads is { } t)
        {
            if (t < 1)
            {
                throw new ArgumentException($"--threads must be at least 1, got {t}");
            }

            TorchEngine.SetThreads(t);
        }
    }

    /// <summary>The value of a count option such as <c>--batch-size</c>; a value below 1 is refused with the flag as typed.</summary>
    public static int Count(ParseResult result, Option<int> option)
    {
        var value = result.GetValue(option);
        return value >= 1 ? value : throw new ArgumentException($"{Typed(result, option)} must be at least 1, got {value}");
    }

    /// <summary>The flag as the user typed it (an alias or the name), or the option's name when it was not given.</summary>
    public static string Typed(ParseResult result, Option option) => result.GetResult(option)?.IdentifierToken?.Value is { Length: > 0 } typed ? typed : option.Name;
}
