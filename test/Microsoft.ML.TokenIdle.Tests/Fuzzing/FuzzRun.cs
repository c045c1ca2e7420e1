using System.Diagnostics;

namespace Microsoft.ML.TokenIdle.Tests.Fuzzing;

/// <summary>
/// Runs a parser over mutants of a valid input and counts the outcomes by exception type. Each mutant must end
/// in success or in one of the parser's documented exception types, within a time and a managed-allocation bound.
/// The count is <c>TOKENIDLE_FUZZ_MUTANTS</c> (default 2,000), starting at mutant <c>TOKENIDLE_FUZZ_FROM</c> (default 0,
/// to replay a failure); with <c>TOKENIDLE_FUZZ_REPORT</c> set to a folder, the counts are written there as one JSON
/// file per parser. <c>TOKENIDLE_FUZZ_SURVEY=1</c> (eng/fuzz.sh) counts a bound exceeded or a hang as an outcome
/// instead of failing, so that a long run reports every kind of failure it meets.
/// </summary>
public static class FuzzRun
{
    /// <summary>Mutants per parser.</summary>
    public static int Mutants => int.TryParse(Environment.GetEnvironmentVariable("TOKENIDLE_FUZZ_MUTANTS"), out var n) && n > 0 ? n : 2_000;

    private static bool Survey => Environment.GetEnvironmentVariable("TOKENIDLE_FUZZ_SURVEY") == "1";

    /// <summary>Outcome counts ("accepted" or the exception type's name); <paramref name="mutate"/> defaults to <see cref="Mutator.Mutate"/>.</summary>
    public static SortedDictionary<string, int> Run(string parser, byte[] original, Action<byte[]> parse, Type[] documented, TimeSpan timeBound, long allocationBound, Func<byte[], int, byte[]>? mutate = null)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var slowest = TimeSpan.Zero;
        long largest = 0;
        var from = int.TryParse(Environment.GetEnvironmentVariable("TOKENIDLE_FUZZ_FROM"), out var f) && f > 0 ? f : 0;
        for (var i = from; i < from + Mutants; i++)
        {
            var mutant = (mutate ?? Mutator.Mutate)(original, i);

            // Each mutant runs on its own thread, so that a hang is reported with its number instead of stalling the run.
            var run = Task.Factory.StartNew(() => Attempt(parse, mutant, documented), TaskCreationOptions.LongRunning);
            string kind;
            if (!run.Wait(HangBound(timeBound)))
            {
                kind = Fail("hang", $"{parser} mutant {i} ({mutant.Length} bytes) did not finish within {HangBound(timeBound).TotalSeconds:F0} s: it hangs (replay with TOKENIDLE_FUZZ_FROM={i})");
            }
            else
            {
                var (outcome, elapsed, bytes, error) = run.Result;
                (slowest, largest) = (elapsed > slowest ? elapsed : slowest, Math.Max(largest, bytes));
                kind = error is not null ? Fail("undocumented " + error.GetType().Name, $"{parser} mutant {i} ({mutant.Length} bytes) threw an undocumented {error.GetType().Name}: {error}")
                    : elapsed > timeBound ? Fail("over time bound", $"{parser} mutant {i} took {elapsed.TotalMilliseconds:F0} ms (bound {timeBound.TotalMilliseconds:F0} ms)")
                    : bytes > allocationBound ? Fail("over allocation bound", $"{parser} mutant {i} allocated {bytes:N0} bytes (bound {allocationBound:N0})")
                    : outcome;
            }

            counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }

        if (Environment.GetEnvironmentVariable("TOKENIDLE_FUZZ_REPORT") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{parser}.json"), System.Text.Json.JsonSerializer.Serialize(new
            {
                parser,
                mutants = Mutants,
                counts,
                slowest_ms = Math.Round(slowest.TotalMilliseconds, 1),
                largest_allocation_bytes = largest,
            }));
        }

        return counts;
    }

    // Fails the test, or in a survey run returns the kind of violation to count (the message goes to standard error).
    private static string Fail(string kind, string message)
    {
        if (!Survey)
        {
            throw new Xunit.Sdk.XunitException(message);
        }

        Console.Error.WriteLine(message);
        return kind;
    }

    // A mutant slower than this is stuck, not slow: it fails the run at once with its number.
    private static TimeSpan HangBound(TimeSpan timeBound) => timeBound * 10;

    private static (string Outcome, TimeSpan Elapsed, long Allocated, Exception? Error) Attempt(Action<byte[]> parse, byte[] mutant, Type[] documented)
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        string outcome;
        try
        {
            parse(mutant);
            outcome = "accepted";
        }
        catch (Exception e) when (documented.Contains(e.GetType()))
        {
            outcome = e.GetType().Name;
        }
        catch (Exception e)
        {
            return ("undocumented", watch.Elapsed, 0, e);
        }

        return (outcome, watch.Elapsed, GC.GetAllocatedBytesForCurrentThread() - allocated, null);
    }
}
