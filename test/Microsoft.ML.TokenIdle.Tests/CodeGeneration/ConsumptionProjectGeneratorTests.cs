using Microsoft.ML.TokenIdle.CodeGeneration;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Training;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.TokenIdle.Tests.CodeGeneration;

/// <summary>The generated code for pipelines with ML.NET's image, copy and concatenation steps and non-default trainer options; it must compile.</summary>
public sealed class ConsumptionProjectGeneratorTests : IClassFixture<ImagePipelineData>
{
    private readonly ImagePipelineData _data;

    public ConsumptionProjectGeneratorTests(ImagePipelineData data) => _data = data;

    public sealed class BytesRow
    {
        public byte[] Photo { get; set; } = Array.Empty<byte>();

        public string Label { get; set; } = string.Empty;
    }

    [Fact]
    public void EveryStepAndEveryChangedOptionIsWrittenAndTheProjectBuilds()
    {
        var context = new MLContext(seed: 1);
        var (train, _) = _data.Data(context);
        var options = _data.Recipe(new LifeRegressionSlimmingTrainer.Options
        {
            ImageColumnName = "Copy",
            TokenReduction = new LifeRegressionOptions { KeepRatio = 0.5, Layers = new[] { 1, 2 }, Steepness = 2 },
            PredictorEpochs = 2,
            EarlyStoppingCriteria = new EarlyStopping(MinDelta: 0.5, Patience: 1),
            ValidationSetFraction = 0.25,
            TokenMaskColumnName = "Mask",
            MaxEpoch = 1,
        });
        var model = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.LoadImages("Image", _data.Images, "ImagePath"))
            .Append(context.Transforms.ResizeImages("Small", 8, 6, "Image", ImageResizingEstimator.ResizingKind.IsoPad, ImageResizingEstimator.Anchor.Top))
            .Append(context.Transforms.ExtractPixels("Pixels", "Small", ImagePixelExtractingEstimator.ColorBits.Red | ImagePixelExtractingEstimator.ColorBits.Blue, offsetImage: 3, scaleImage: 0.5f))
            .Append(context.Transforms.Concatenate("Features", "Pixels", "Pixels"))
            .Append(context.Transforms.CopyColumns("Copy", "Image"))
            .Append(context.MulticlassClassification.Trainers.LifeRegressionSlimming(options))
            .Append(context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"))
            .Fit(train);
        var zip = Path.Combine(_data.Root, "steps.zip");
        context.Model.Save(model, train.Schema, zip);
        var folder = Path.Combine(_data.Root, "steps");
        var library = Path.Combine(RepositoryPaths.Root, "src", "Microsoft.ML.TokenIdle", "Microsoft.ML.TokenIdle.csproj");
        var files = ConsumptionProjectGenerator.Write(zip, "Steps", folder, library, webApi: true);
        Assert.Equal(new[]
        {
            "Steps.consumption.cs", "Steps.training.cs", "Program.cs", "StepsApp.csproj", "LibTorchSharpCompat.targets",
            "StepsApp.WebApi/Program.cs", "StepsApp.WebApi/appsettings.json", "StepsApp.WebApi/StepsApp.WebApi.csproj", "StepsApp.WebApi/LibTorchSharpCompat.targets",
            "Steps.mlnet", "StepsApp.WebApi/Steps.mlnet",
        }, files.Select(f => Path.GetRelativePath(folder, f)));
        var project = File.ReadAllText(Path.Combine(folder, "StepsApp.csproj"));
        Assert.Contains("<PackageReference Include=\"libtorch-cpu-linux-x64\" Version=\"2.10.0\" />", project);
        Assert.Contains("<Import Project=\"LibTorchSharpCompat.targets\" />", project);
        // The console project leaves the web API's folder alone (its Program.cs would be a second entry point).
        Assert.Contains("<DefaultItemExcludes>$(DefaultItemExcludes);StepsApp.WebApi/**</DefaultItemExcludes>", project);
        var web = File.ReadAllText(Path.Combine(folder, "StepsApp.WebApi", "StepsApp.WebApi.csproj"));
        Assert.Contains("<Project Sdk=\"Microsoft.NET.Sdk.Web\">", web);
        Assert.Contains("<TreatWarningsAsErrors>true</TreatWarningsAsErrors>", web);
        Assert.Contains($"<ProjectReference Include=\"{library}\" />", web);
        Assert.Contains("builder.Services.AddTokenIdlePredictor(modelPath, options => builder.Configuration.GetSection(\"Predictor\").Bind(options));", File.ReadAllText(Path.Combine(folder, "StepsApp.WebApi", "Program.cs")));
        Assert.Equal(File.ReadAllBytes(zip), File.ReadAllBytes(Path.Combine(folder, "StepsApp.WebApi", "Steps.mlnet")));

        var training = File.ReadAllText(Path.Combine(folder, "Steps.training.cs"));
        foreach (var expected in new[]
        {
            "mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: @\"Label\", inputColumnName: @\"Label\", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)",
            $".Append(mlContext.Transforms.LoadImages(outputColumnName: @\"Image\", imageFolder: @\"{_data.Images}\", inputColumnName: @\"ImagePath\"))",
            ".Append(mlContext.Transforms.ResizeImages(outputColumnName: @\"Small\", imageWidth: 8, imageHeight: 6, inputColumnName: @\"Image\", resizing: ImageResizingEstimator.ResizingKind.IsoPad, cropAnchor: ImageResizingEstimator.Anchor.Top))",
            "colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red | ImagePixelExtractingEstimator.ColorBits.Blue, orderOfExtraction: ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, offsetImage: 3f, scaleImage: 0.5f, outputAsFloatArray: true))",
            ".Append(mlContext.Transforms.Concatenate(@\"Features\", @\"Pixels\", @\"Pixels\"))",
            ".Append(mlContext.Transforms.CopyColumns(outputColumnName: @\"Copy\", inputColumnName: @\"Image\"))",
            ".Append(mlContext.MulticlassClassification.Trainers.LifeRegressionSlimming(new LifeRegressionSlimmingTrainer.Options",
            "ImageColumnName = @\"Copy\",",
            "TokenMaskColumnName = @\"Mask\",",
            $"Backbone = Backbone.Files(@\"{_data.ConfigPath}\"),",
            "ValidationSetFraction = 0.25,",
            "EarlyStoppingCriteria = new EarlyStopping(MinDelta: 0.5, Patience: 1, Metric: EarlyStoppingMetric.Accuracy),",
            "Seed = 4,",
            "KeepRatio = 0.5,",
            "Layers = new int[] { 1, 2 },",
            "Steepness = 2d,",
            "PredictorEpochs = 2,",
            ".Append(mlContext.Transforms.Conversion.MapKeyToValue(outputColumnName: @\"PredictedName\", inputColumnName: @\"PredictedLabel\"));",
        })
        {
            Assert.Contains(expected, training);
        }

        var consumption = File.ReadAllText(Path.Combine(folder, "Steps.consumption.cs"));
        Assert.Contains("public float[] Score { get; set; }", consumption);
        Assert.Contains("[VectorType(2, 16)]\n        public float[] Mask { get; set; }", consumption);
        Assert.Contains("// 'Copy' (Image) is not bound here.", consumption);
        Assert.Contains("= Path.GetFullPath(path) };", File.ReadAllText(Path.Combine(folder, "Program.cs")));

        // The generated code compiles (as a project referencing the library's project; the web API is built and run by
        // eng/serving/test-web-api.sh).
        ProcessRunner.Run("dotnet", folder, "build", "-c", "Release", "-nologo");
    }

    /// <summary>
    /// Generated code writes only what differs from the Options' defaults, so a recipe at the defaults is written as the
    /// trainer with its backbone alone: the generated code's defaults are the Options' (and the CLI's, TrainFlagsTests).
    /// </summary>
    [Theory]
    [InlineData(typeof(VisionTransformerTrainer.Options))]
    [InlineData(typeof(TokenIdleImageClassificationTrainer.Options))]
    [InlineData(typeof(TokenReorganizationImageClassificationTrainer.Options))]
    [InlineData(typeof(LifeRegressionSlimmingTrainer.Options))]
    [InlineData(typeof(TokenMergingImageClassificationTrainer.Options))]
    public void ARecipeAtTheDefaultsIsWrittenAsItsTrainerAndBackboneAlone(Type optionsType)
    {
        var options = (VisionTransformerTrainerBase.OptionsBase)Activator.CreateInstance(optionsType)!;
        options.Backbone = Backbone.Default;
        var recipe = new Microsoft.ML.TokenIdle.Components.TrainerRecipe(optionsType.DeclaringType!.Name, System.Text.Json.JsonSerializer.SerializeToElement(options, optionsType));
        var lines = OptionsCode.TrainerCall(recipe, "").Split('\n').Select(l => l.Trim()).Where(l => l.EndsWith(',')).ToList();
        Assert.Equal(new[] { "Backbone = Backbone.HubModel(@\"timm/deit_small_patch16_224.fb_in1k\")," }, lines);
    }

    /// <summary>The ToMe trainer's recipe is written with its merge settings set in place, as the other methods' are.</summary>
    [Fact]
    public void ATokenMergingRecipeIsWrittenWithItsMergeSettings()
    {
        var options = new TokenMergingImageClassificationTrainer.Options { Backbone = Backbone.Default, TokenMerging = { MergedPerLayer = 13, ProportionalAttention = true } };
        var recipe = new Microsoft.ML.TokenIdle.Components.TrainerRecipe(nameof(TokenMergingImageClassificationTrainer), System.Text.Json.JsonSerializer.SerializeToElement(options));
        var code = OptionsCode.TrainerCall(recipe, "");
        Assert.StartsWith("mlContext.MulticlassClassification.Trainers.TokenMergingImageClassification(new TokenMergingImageClassificationTrainer.Options", code);
        var lines = code.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("TokenMerging =", lines);
        Assert.Contains("MergedPerLayer = 13,", lines);
        Assert.Contains("ProportionalAttention = true,", lines);
    }

    /// <summary>
    /// Recipes saved before the backbone was one value are written in today's names: the older ConfigPath as
    /// <c>Backbone.Files</c>, KeepRate as KeepRatio, float16's HalfPrecision as Precision, and a recipe that named no
    /// backbone as the embedded Fashion-MNIST ViT, the default when it was saved (today's default is DeiT-S).
    /// </summary>
    [Fact]
    public void RecipesOfEarlierBuildsAreWrittenInTodaysNames()
    {
        var saved = ((IEnumerable<ITransformer>)new MLContext().Model.Load(Path.Combine(AppContext.BaseDirectory, "Data", "mlnet-5.0.1.zip"), out _)).OfType<VisionTransformerClassifier>().Single();
        var code = OptionsCode.TrainerCall(saved.Recipe!, "");
        Assert.Contains("Backbone = Backbone.Files(@\"/tmp/tokenidle-saved-model.json\"),", code);
        Assert.Contains("LearningRate = 0.003,", code);
        Assert.DoesNotContain("ConfigPath", code);

        var unnamed = new Microsoft.ML.TokenIdle.Components.TrainerRecipe(nameof(TokenIdleImageClassificationTrainer),
            System.Text.Json.JsonDocument.Parse("""{"TokenReduction":{"KeepRate":0.5},"HalfPrecision":true,"MaxEpoch":1}""").RootElement);
        code = OptionsCode.TrainerCall(unnamed, "");
        Assert.Contains("Backbone = Backbone.FashionMnist,", code);
        Assert.Contains("KeepRatio = 0.5,", code);
        Assert.Contains("Precision = Precision.Float16,", code);
        Assert.DoesNotContain("KeepRate", code);
        Assert.DoesNotContain("HalfPrecision", code);
    }

    [Fact]
    public void AModelFedImageBytesGetsAProgramThatReadsTheFiles()
    {
        var context = new MLContext(seed: 1);
        var rows = _data.Rows().Take(20).Select(r => new BytesRow { Photo = File.ReadAllBytes(Path.Combine(_data.Images, r.ImagePath)), Label = r.Label }).ToList();
        var data = context.Data.LoadFromEnumerable(rows);
        var model = context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.MulticlassClassification.Trainers.VisionTransformer(_data.Recipe(new VisionTransformerTrainer.Options { ImageColumnName = "Photo", MaxEpoch = 1 })))
            .Fit(data);
        var zip = Path.Combine(_data.Root, "bytes.zip");
        context.Model.Save(model, data.Schema, zip);
        var folder = Path.Combine(_data.Root, "bytes");
        ConsumptionProjectGenerator.Write(zip, "Bytes", folder);
        Assert.Contains("new Bytes.ModelInput { Photo = File.ReadAllBytes(path) };", File.ReadAllText(Path.Combine(folder, "Program.cs")));
        Assert.Contains("public byte[] Photo { get; set; }", File.ReadAllText(Path.Combine(folder, "Bytes.consumption.cs")));
        var project = File.ReadAllText(Path.Combine(folder, "BytesApp.csproj"));
        Assert.Contains("<PackageReference Include=\"Microsoft.ML.TokenIdle\" Version=\"1.0.0\" />", project);
        // The package brings its build targets (buildTransitive): no copy, no import.
        Assert.Contains("<PackageReference Include=\"Microsoft.ML\" Version=\"6.0.0\" />", project);
        Assert.DoesNotContain("LibTorchSharpCompat", project);
        Assert.False(File.Exists(Path.Combine(folder, "LibTorchSharpCompat.targets")));
    }

    [Fact]
    public void BadNamesReferencesAndModelsAreRefused()
    {
        var context = new MLContext(seed: 1);
        var (train, _) = _data.Data(context);
        var zip = Path.Combine(_data.Root, "keys-only.zip");
        context.Model.Save(context.Transforms.Conversion.MapValueToKey("Label").Fit(train), train.Schema, zip);
        var folder = Path.Combine(_data.Root, "refused");
        Assert.Contains("is not a C# identifier", Assert.Throws<ArgumentException>(() => ConsumptionProjectGenerator.Write(zip, "2fast", folder)).Message);
        Assert.Contains("is neither a .csproj nor a .dll", Assert.Throws<ArgumentException>(() => ConsumptionProjectGenerator.Write(zip, "Model", folder, "lib.txt")).Message);
        Assert.Contains("has no ViT classifier step", Assert.Throws<InvalidDataException>(() => ConsumptionProjectGenerator.Write(zip, "Model", folder)).Message);
        Assert.False(Directory.Exists(folder));
    }
}
