using System.Text.Json;

namespace Microsoft.ML.TokenIdle.Tests.Cli;

/// <summary><c>tokenidle predict</c> and <c>visualize --model</c> on an ML.NET model zip saved by this process.</summary>
public sealed class PredictCommandTests : IClassFixture<ImagePipelineData>
{
    private readonly ImagePipelineData _data;

    public PredictCommandTests(ImagePipelineData data) => _data = data;

    public sealed class Output
    {
        public float[] Score { get; set; } = Array.Empty<float>();

        public string PredictedName { get; set; } = string.Empty;
    }

    [Fact]
    public void PredictScoresImageFilesAsTheTrainingProcessDid()
    {
        var context = new MLContext(seed: 1);
        var (train, test) = _data.Data(context);
        var model = _data.Prepare(context)
            .Append(context.MulticlassClassification.Trainers.TokenIdleImageClassification(_data.Recipe(new TokenIdleImageClassificationTrainer.Options { MaxEpoch = 1 })))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"))
            .Fit(train);
        var path = Path.Combine(_data.Root, "served.zip");
        context.Model.Save(model, train.Schema, path);
        var rows = context.Data.CreateEnumerable<ImagePipelineData.ImageRow>(test, false).Take(6).ToList();
        var expected = context.Data.CreateEnumerable<Output>(model.Transform(context.Data.LoadFromEnumerable(rows)), false, ignoreMissingColumns: true).ToList();

        var (code, stdout, stderr) = CliRunner.Run(new[] { "predict", "--model", path, "--top", "2" }.Concat(rows.Select(r => Path.Combine(_data.Images, r.ImagePath))).ToArray());
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(6, lines.Count);
        // predict scores the files in its own batches: two float32 paths, each within the probability bound of float64,
        // and it prints six decimals (±5e-7).
        for (var i = 0; i < 6; i++)
        {
            NumericBounds.Within(nameof(NumericBounds.Probability), Math.Abs(lines[i].GetProperty("probability").GetDouble() - expected[i].Score.Max()), 2 * NumericBounds.Probability + 5e-7, $"image {i}: predict's probability against the pipeline's");
            if (NumericBounds.Decided(expected[i].Score.Select(v => (double)v), 2 * NumericBounds.Probability))
            {
                Assert.Equal(expected[i].PredictedName, lines[i].GetProperty("predicted").GetString());
            }

            Assert.Equal(2, lines[i].GetProperty("top").GetArrayLength());
        }

        // --precision runs the saved float32 model in bfloat16: probabilities within the classifier's bfloat16 bound
        // (1.5e-2, see VisionTransformerClassifierTests), the class the same wherever float32's margin exceeds twice that.
        (code, stdout, stderr) = CliRunner.Run(new[] { "predict", "--model", path, "--top", "2", "--precision", "bfloat16" }.Concat(rows.Select(r => Path.Combine(_data.Images, r.ImagePath))).ToArray());
        Assert.True(code == 0, stderr);
        var reduced = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        for (var i = 0; i < 6; i++)
        {
            NumericBounds.Within("BFloat16Probability", Math.Abs(reduced[i].GetProperty("probability").GetDouble() - expected[i].Score.Max()), 1.5e-2, $"image {i}: predict's bfloat16 probability against float32");
            if (NumericBounds.Decided(expected[i].Score.Select(v => (double)v), 1.5e-2))
            {
                Assert.Equal(expected[i].PredictedName, reduced[i].GetProperty("predicted").GetString());
            }
        }

        // Bad files: without --skip-unreadable the first stops the run with its name; with it each is reported and left out.
        var bomb = Path.Combine(_data.Root, "bomb.png");
        File.WriteAllBytes(bomb, HostileFiles.PngDeclaring(16384, 16384));
        var good = Path.Combine(_data.Images, rows[0].ImagePath);
        (code, stdout, stderr) = CliRunner.Run("predict", "--model", path, bomb, "/dev/zero", good);
        Assert.Equal(1, code);
        Assert.Equal($"tokenidle: error: '{bomb}': a 16384×16384 image (268.4 Mpixel) is over the decoding limit of 67.1 Mpixel", stderr.Trim());
        (code, stdout, stderr) = CliRunner.Run("predict", "--model", path, "--skip-unreadable", bomb, "/dev/zero", good);
        Assert.True(code == 0, stderr);
        Assert.Equal(new[] { $"tokenidle: skipped '{bomb}': a 16384×16384 image (268.4 Mpixel) is over the decoding limit of 67.1 Mpixel", "tokenidle: skipped image file '/dev/zero' is empty or not a regular file" }, stderr.Trim().Split('\n'));
        Assert.Equal(good, JsonDocument.Parse(stdout.Trim()).RootElement.GetProperty("image").GetString());

        // visualize draws the zip's own method.
        var pictures = Path.Combine(_data.Root, "pictures");
        (code, _, stderr) = CliRunner.Run("visualize", "--model", path, "--output", pictures, Path.Combine(_data.Images, rows[0].ImagePath));
        Assert.True(code == 0, stderr);
        Assert.Single(Directory.GetFiles(pictures, "*.idle.png"));
    }

    [Fact]
    public void AMissingOrTamperedZipIsOneLineOnStandardError()
    {
        var (code, _, stderr) = CliRunner.Run("predict", "--model", Path.Combine(_data.Root, "missing.zip"), "x.png");
        Assert.Equal(1, code);
        Assert.Contains("missing.zip", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var context = new MLContext(seed: 1);
        var (train, _) = _data.Data(context);
        var model = _data.Prepare(context).Append(context.MulticlassClassification.Trainers.VisionTransformer(_data.Recipe(new VisionTransformerTrainer.Options { MaxEpoch = 1 }))).Fit(train);
        var path = Path.Combine(_data.Root, "tampered.zip");
        context.Model.Save(model, train.Schema, path);
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
        {
            var entry = zip.Entries.Single(e => e.FullName.EndsWith("/TSModel.safetensors", StringComparison.Ordinal));
            var name = entry.FullName;
            entry.Delete();
            using var stream = zip.CreateEntry(name).Open();
            stream.Write(new byte[64]);
        }

        (code, _, stderr) = CliRunner.Run("predict", "--model", path, Path.Combine(_data.Images, "0", "0000.png"));
        Assert.Equal(1, code);
        Assert.StartsWith("tokenidle: error: 'TransformerChain", stderr);
        Assert.Contains("does not match the checksum saved with the model", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
