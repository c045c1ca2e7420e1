using Microsoft.ML.TokenIdle.Tests.Components;

namespace Microsoft.ML.TokenIdle.Tests;

/// <summary>
/// Disposing a classifier, measured on the process's resident memory: in the collection that runs alone, so that no
/// other test's allocations count (run beside the parallel suite, it once read 491 MB of their growth).
/// </summary>
[Collection(AllocationBound.Name)]
public sealed class VisionTransformerClassifierDisposalTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dispose");

    public void Dispose() => _folder.Delete(recursive: true);

    /// <summary>
    /// Dispose frees the network's and the life predictor's native tensors at once (every parameter's handle is
    /// released), and a service that loads a model zip (deit-tiny: 23 MB of weights), scores and unloads it 100 times
    /// keeps its resident memory flat (61 MB over 90 cycles measured). Without Dispose the finaliser frees them
    /// eventually — here the managed buffers of each load kept the garbage collector running, so resident memory
    /// stayed bounded too; on CUDA, device memory is what the collector does not see, which is why Dispose matters.
    /// </summary>
    [Fact]
    public void LoadingScoringAndDisposingAModelAHundredTimesKeepsResidentMemoryFlat()
    {
        var set = FixtureSet.Get("deit-tiny");
        var context = new MLContext(seed: 1);
        var data = VisionTransformerClassifierTests.FixtureData(context, set);
        var path = Path.Combine(_folder.FullName, "dispose-deit-tiny.zip");
        using (var classifier = VisionTransformerClassifierTests.FixtureTrainer(context, set, "idle.k0.7", Precision.Float32).Fit(data))
        {
            context.Model.Save(classifier, data.Schema, path);
            Assert.Throws<ObjectDisposedException>(() => { classifier.Dispose(); VisionTransformerClassifierTests.Score(context, classifier, data); });
        }

        long Resident()
        {
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            return process.WorkingSet64;
        }

        long? afterWarmUp = null;
        for (var i = 0; i < 100; i++)
        {
            var loaded = (VisionTransformerClassifier)new MLContext().Model.Load(path, out _);
            Assert.Single(VisionTransformerClassifierTests.Score(context, loaded, data).Take(1));
            var parameters = loaded.Model.parameters().ToList();
            loaded.Dispose();
            Assert.All(parameters, p => Assert.True(p.IsInvalid));
            if (i == 9)
            {
                afterWarmUp = Resident();
            }
        }

        var growth = Resident() - afterWarmUp!.Value;
        Assert.True(growth < 150L << 20, $"resident memory grew by {growth >> 20} MB over 90 load/score/dispose cycles");
    }
}
