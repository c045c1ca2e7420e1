using System.Reflection;
using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.TokenIdle.Components;
using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.CodeGeneration;

/// <summary>
/// Writes the code ML.NET's Model Builder and mlnet CLI generate for a saved model, for a model zip holding one of
/// this library's classifiers: <c>NAME.consumption.cs</c> (<c>ModelInput</c>, <c>ModelOutput</c>, a lazy static
/// <c>PredictEngine</c> over the zip loaded by a fresh MLContext, <c>Predict(ModelInput)</c>), <c>NAME.training.cs</c>
/// (<c>BuildPipeline(MLContext)</c> rebuilding the model's estimator chain with its trainer's saved options,
/// <c>RetrainModel</c>, <c>Train</c>), a <c>Program.cs</c> that prints one JSON line per image given on its command line,
/// the zip as <c>NAME.mlnet</c>, and <c>NAMEApp.csproj</c> (with the native libtorch package) — and, asked for, an
/// ASP.NET Core web API in <c>NAMEApp.WebApi/</c> (<see cref="WebApiProjectCode"/>); the classes are in
/// namespace <c>NAMEApp</c> (as Model Builder puts a model's class in its app's namespace). A project that references
/// the library's package gets its build targets (TorchSharp made loadable on systems with an older libstdc++) from the
/// package; one that references the library's project or assembly gets a copy, <c>LibTorchSharpCompat.targets</c>.
/// </summary>
public static class ConsumptionProjectGenerator
{
    private const string CompatTargets = "LibTorchSharpCompat.targets";

    /// <summary>
    /// Writes the project for <paramref name="modelPath"/> into <paramref name="outputFolder"/> (created); returns the files.
    /// <paramref name="library"/> says how the project references this library: null for its NuGet package,
    /// a <c>.csproj</c> path for a project reference, a <c>.dll</c> path for an assembly reference. With
    /// <paramref name="webApi"/>, also the web API project in <c>NAMEApp.WebApi/</c>, with its own copy of the zip.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a C# identifier, or the library reference is neither .csproj nor .dll.</exception>
    /// <exception cref="InvalidDataException">The zip has no ViT classifier, or its images come from neither a path nor a byte column of its input.</exception>
    public static IReadOnlyList<string> Write(string modelPath, string name, string outputFolder, string? library = null, bool webApi = false)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_') || !name.All(c => char.IsLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"'{name}' is not a C# identifier: the name becomes the class name (and NAMEApp the namespace and project)");
        }

        var reference = Reference(library);
        var context = new MLContext();
        var model = ModelZip.Load(context, modelPath, out var inputSchema);
        if (inputSchema is null)
        {
            throw new InvalidDataException($"model '{modelPath}' was saved without an input schema (pass the training data's schema to MLContext.Model.Save)");
        }

        var steps = TransformerSteps.Flatten(model).ToList();
        var classifier = steps.OfType<VisionTransformerClassifier>().FirstOrDefault() ?? throw new InvalidDataException($"model '{modelPath}' has no ViT classifier step");
        var outputSchema = model.GetOutputSchema(inputSchema);
        var added = outputSchema.Where(c => inputSchema.GetColumnOrNull(c.Name) is not { } same || same.Type != c.Type || c.Index >= inputSchema.Count).ToList();
        var image = ImageInput.Of(steps, inputSchema, classifier, modelPath);

        var folder = Directory.CreateDirectory(outputFolder).FullName;
        var files = new List<(string Name, string Text)>
        {
            ($"{name}.consumption.cs", Consumption(name, inputSchema, added, classifier.ScoreColumnName)),
            ($"{name}.training.cs", Training(name, steps, inputSchema)),
            ("Program.cs", Program(name, image)),
            ($"{name}App.csproj", Project(name, reference, importCompatTargets: library is not null, webApi)),
        };
        if (library is not null)
        {
            files.Add((CompatTargets, CompatTargetsText()));
        }

        var zips = new List<string> { $"{name}.mlnet" };
        if (webApi)
        {
            var web = WebApiProjectCode.Folder(name);
            files.Add((Path.Combine(web, "Program.cs"), WebApiProjectCode.Program(name)));
            files.Add((Path.Combine(web, "appsettings.json"), WebApiProjectCode.AppSettings()));
            files.Add((Path.Combine(web, $"{web}.csproj"), WebApiProjectCode.Project(name, reference, library is null ? null : CompatTargets)));
            if (library is not null)
            {
                files.Add((Path.Combine(web, CompatTargets), CompatTargetsText()));
            }

            zips.Add(Path.Combine(web, $"{name}.mlnet"));
            Directory.CreateDirectory(Path.Combine(folder, web));
        }

        var written = new List<string>();
        foreach (var (file, text) in files)
        {
            var path = Path.Combine(folder, file);
            AtomicFile.Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));
            written.Add(path);
        }

        foreach (var zip in zips.Select(z => Path.Combine(folder, z)))
        {
            AtomicFile.Write(zip, stream =>
            {
                using var source = File.OpenRead(modelPath);
                source.CopyTo(stream);
            });
            written.Add(zip);
        }

        return written;
    }

    private static string Consumption(string name, DataViewSchema input, IEnumerable<DataViewSchema.Column> added, string scoreColumn) => $$"""
        // Generated by `tokenidle generate` (Microsoft.ML.TokenIdle), as ML.NET's Model Builder writes consumption code.
        using Microsoft.ML;
        using Microsoft.ML.Data;

        namespace {{name}}App;

        /// <summary>Scores images with the model in {{name}}.mlnet (an ML.NET model zip).</summary>
        public partial class {{name}}
        {
        {{ModelTypesCode.Class("ModelInput", "A row of the model's input.", input, input: true, "    ")}}
        {{ModelTypesCode.Class("ModelOutput", "What the model adds to a row.", added, input: false, "    ")}}
            /// <summary>The model zip, next to the program.</summary>
            public static readonly string MLNetModelPath = Path.Combine(AppContext.BaseDirectory, "{{name}}.mlnet");

            /// <summary>One prediction engine, made on first use (not thread-safe: one per thread in a service).</summary>
            public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, true);

            /// <summary>The class names, in the order of the Score vector.</summary>
            public static string[] ClassNames
            {
                get
                {
                    VBuffer<ReadOnlyMemory<char>> names = default;
                    PredictEngine.Value.OutputSchema[{{CSharpLiteral.Of(scoreColumn)}}].GetSlotNames(ref names);
                    return names.DenseValues().Select(n => n.ToString()).ToArray();
                }
            }

            /// <summary>Scores one row.</summary>
            public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

            private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
            {
                var mlContext = new MLContext();
                ITransformer mlModel = mlContext.Model.Load(MLNetModelPath, out _);
                return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
            }
        }

        """;

    private static string Training(string name, IReadOnlyList<ITransformer> steps, DataViewSchema input) => $$"""
        // Generated by `tokenidle generate` (Microsoft.ML.TokenIdle): the training pipeline of {{name}}.mlnet.
        using Microsoft.ML;
        using Microsoft.ML.Data;
        using Microsoft.ML.TokenIdle;
        using Microsoft.ML.TokenIdle.Training;
        using Microsoft.ML.TokenIdle.Training.Losses;
        using Microsoft.ML.Transforms;
        using Microsoft.ML.Transforms.Image;

        namespace {{name}}App;

        public partial class {{name}}
        {
            /// <summary>Trains the pipeline on <paramref name="trainData"/> and saves the model to <paramref name="outputModelPath"/>.</summary>
            public static void Train(string outputModelPath, IDataView trainData)
            {
                var mlContext = new MLContext(seed: 1);
                var model = RetrainModel(mlContext, trainData);
                mlContext.Model.Save(model, trainData.Schema, outputModelPath);
            }

            /// <summary>Fits the pipeline to <paramref name="trainData"/>.</summary>
            public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData) => BuildPipeline(mlContext).Fit(trainData);

            /// <summary>The estimators that made the model, with its trainer's saved options (file paths as they were when it was trained).</summary>
            public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext)
            {
        {{PipelineCode.Build(steps, input, "        ")}}        return pipeline;
            }
        }

        """;

    private static string Program(string name, ImageInput image) => $$"""
        // Generated by `tokenidle generate` (Microsoft.ML.TokenIdle): scores the image files given on the command line,
        // one JSON line each (the predicted class and the Score vector).
        using System.Text.Json;
        using {{name}}App;

        foreach (var path in args)
        {
            var input = new {{name}}.ModelInput { {{ModelTypesCode.Identifier(image.Column)}} = {{(image.EncodedBytes ? "File.ReadAllBytes(path)" : "Path.GetFullPath(path)")}} };
            var output = {{name}}.Predict(input);
            var best = Array.IndexOf(output.Score, output.Score.Max());
            Console.WriteLine(JsonSerializer.Serialize(new { image = path, predicted = {{name}}.ClassNames[best], score = output.Score }));
        }

        """;

    private static string Project(string name, string reference, bool importCompatTargets, bool besideWebApi) => $$"""
        <Project Sdk="Microsoft.NET.Sdk">

          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <Nullable>enable</Nullable>
            <RootNamespace>{{name}}App</RootNamespace>{{(besideWebApi ? $"\n    <!-- The web API beside it is a project of its own. -->\n    <DefaultItemExcludes>$(DefaultItemExcludes);{WebApiProjectCode.Folder(name)}/**</DefaultItemExcludes>" : "")}}
          </PropertyGroup>

          <ItemGroup>
        {{reference}}  </ItemGroup>

          <ItemGroup>
            <None Include="{{name}}.mlnet" CopyToOutputDirectory="PreserveNewest" />
          </ItemGroup>

        {{(importCompatTargets ? $"\n  <Import Project=\"{CompatTargets}\" />\n" : "")}}
        </Project>

        """;

    /// <summary>The build targets the library's package carries (buildTransitive/Microsoft.ML.TokenIdle.targets).</summary>
    private static string CompatTargetsText()
    {
        using var stream = typeof(ConsumptionProjectGenerator).Assembly.GetManifestResourceStream($"Microsoft.ML.TokenIdle.CodeGeneration.{CompatTargets}")
            ?? throw new InvalidOperationException($"the library was built without its embedded {CompatTargets}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>A NuGet version or range's lowest version (<c>[6.0.0, 7.0.0)</c> → <c>6.0.0</c>): what restore picks, written as an application would.</summary>
    private static string LowerBound(string range) => range.TrimStart('[', '(').Split(',')[0].TrimEnd(']', ')').Trim();

    /// <summary>
    /// The project's references: this library (package, project or assembly), for an assembly the packages it
    /// needs, and always the native libtorch the library was built and tested with.
    /// </summary>
    private static string Reference(string? library)
    {
        var assembly = typeof(ConsumptionProjectGenerator).Assembly;
        var metadata = assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToList();
        var packages = metadata
            .Where(a => a.Key.StartsWith("PackageReference:", StringComparison.Ordinal))
            .ToDictionary(a => a.Key["PackageReference:".Length..], a => LowerBound(a.Value!));
        string Package(string id) => $"    <PackageReference Include=\"{id}\" Version=\"{packages[id]}\" />\n";
        var native = metadata.Single(a => a.Key.StartsWith("NativeLibTorch:", StringComparison.Ordinal));
        var libtorch = $"    <PackageReference Include=\"{native.Key["NativeLibTorch:".Length..]}\" Version=\"{native.Value}\" />\n";
        var applicationPackages = Package("Microsoft.ML") + Package("Microsoft.ML.ImageAnalytics") + libtorch;
        if (library is null)
        {
            var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
            return applicationPackages + $"    <PackageReference Include=\"Microsoft.ML.TokenIdle\" Version=\"{version}\" />\n";
        }

        var full = Path.GetFullPath(library);
        return Path.GetExtension(full).ToLowerInvariant() switch
        {
            ".csproj" => applicationPackages + $"    <ProjectReference Include=\"{full}\" />\n",
            ".dll" => string.Concat(packages.Keys.Order(StringComparer.Ordinal).Select(Package)) + libtorch + $"    <Reference Include=\"Microsoft.ML.TokenIdle\">\n      <HintPath>{full}</HintPath>\n    </Reference>\n",
            _ => throw new ArgumentException($"library reference '{library}' is neither a .csproj nor a .dll"),
        };
    }
}
