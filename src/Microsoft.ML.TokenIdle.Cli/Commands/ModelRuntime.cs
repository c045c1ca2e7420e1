using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.TokenIdle.Models;
using Microsoft.ML.TokenIdle.Models.TokenReduction;
using Microsoft.ML.TokenIdle.Onnx;
using static TorchSharp.torch;

namespace TokenIdle.Cli.Commands;

/// <summary>
/// The engine a verb scores with: TorchSharp (libtorch), or ONNX Runtime running the model and method exported to
/// ONNX in memory. Either way <see cref="Logits"/> maps images [B, C, H, W] to logits [B, classes].
/// </summary>
internal sealed class ModelRuntime : IDisposable
{
    public const string TorchSharpName = "torchsharp";
    public const string OnnxRuntimeName = "onnxruntime";

    private readonly InferenceSession? _session;
    private readonly RunOptions? _run;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    private ModelRuntime(VisionTransformer model, IReducedForward? reduction, InferenceSession? session, string executionDevice, OnnxExportOptions? export = null)
    {
        (Model, Reduction, _session, ExecutionDevice) = (model, reduction, session, executionDevice);
        Quantization = export?.Quantization ?? OnnxQuantization.None;
        (_inputNames, _outputNames) = export is null ? (Array.Empty<string>(), Array.Empty<string>()) : (new[] { export.InputName }, new[] { export.LogitsName });
        _run = session is null ? null : new RunOptions();
        model.eval();
    }

    /// <summary>The model (for ONNX Runtime: the one that was exported, on the CPU).</summary>
    public VisionTransformer Model { get; }

    /// <summary>The token-reduction method (null: the full model).</summary>
    public IReducedForward? Reduction { get; }

    /// <summary>How the ONNX graph's weight products run (None for TorchSharp).</summary>
    public OnnxQuantization Quantization { get; }

    /// <summary><see cref="TorchSharpName"/> or <see cref="OnnxRuntimeName"/>.</summary>
    public string Name => _session is null ? TorchSharpName : OnnxRuntimeName;

    /// <summary>Where the network runs: the model's device, or ONNX Runtime's execution provider's (cpu, cuda:N).</summary>
    public string ExecutionDevice { get; }

    /// <summary>Where the images handed to <see cref="Logits"/> live (ONNX Runtime reads them from CPU memory).</summary>
    public Device Device => _session is null ? Model.Device : CPU;

    /// <summary>TorchSharp scoring of <paramref name="model"/> on its device, reduced by <paramref name="reduction"/>.</summary>
    public static ModelRuntime TorchSharp(VisionTransformer model, IReducedForward? reduction)
        => new(model, reduction, null, model.Device.ToString());

    /// <summary>
    /// Exports <paramref name="model"/> with <paramref name="reduction"/> and opens it in ONNX Runtime on
    /// <paramref name="device"/> (cpu, or cuda:N through ONNX Runtime's CUDA execution provider), with
    /// <paramref name="threads"/> intra-op threads (null: ONNX Runtime's default, one per core), its weight products as
    /// <paramref name="quantization"/> says.
    /// </summary>
    /// <exception cref="ArgumentException">CUDA was asked for and ONNX Runtime's CUDA provider cannot be loaded.</exception>
    public static ModelRuntime OnnxRuntime(VisionTransformer model, IReducedForward? reduction, string method, string device, int? threads, OnnxQuantization quantization = OnnxQuantization.None)
    {
        using var onnx = new MemoryStream();
        var export = new OnnxExportOptions { ProbabilitiesName = null, Quantization = quantization };
        VisionTransformerOnnxExporter.Export(model, reduction, method, null, onnx, export);
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, InterOpNumThreads = 1 };
        try
        {
            if (threads is { } n)
            {
                options.IntraOpNumThreads = n;
            }

            if (device != "cpu")
            {
                try
                {
                    options.AppendExecutionProvider_CUDA(int.Parse(device.AsSpan("cuda:".Length), provider: System.Globalization.CultureInfo.InvariantCulture));
                }
                catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
                {
                    throw new ArgumentException($"--device {device} --runtime onnxruntime: ONNX Runtime's CUDA execution provider is not available here (it needs Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31.0 and the CUDA 13 libraries): {e.Message.Split('\n')[0]}", e);
                }
            }

            return new ModelRuntime(model, reduction, new InferenceSession(onnx.ToArray(), options), device, export);
        }
        finally
        {
            options.Dispose();
        }
    }

    /// <summary>Logits [B, classes] of images [B, C, H, W] (float32, on <see cref="Device"/>); call it without gradients.</summary>
    public Tensor Logits(Tensor images)
    {
        if (_session is null)
        {
            Model.EnsureScoringFits((int)images.shape[0], Reduction, "--batch-size");
            return Model.Forward(images, Reduction);
        }

        var pixels = MemoryMarshal.Cast<byte, float>(images.to_type(ScalarType.Float32).cpu().contiguous().bytes).ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, images.shape);
        using var outputs = _session.Run(_run, _inputNames, new[] { input }, _outputNames);
        var logits = outputs[0];
        return tensor(logits.GetTensorDataAsSpan<float>().ToArray(), logits.GetTensorTypeAndShape().Shape);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _session?.Dispose();
        _run?.Dispose();
    }
}
