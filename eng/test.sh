#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds (warnings are errors), runs xunit and the
# experiment smoke run.
# The fixtures are read from ../shared/fixtures (or TOKENIDLE_FIXTURES).
set -euo pipefail
cd "$(dirname "$0")/.."
bash eng/install-deps.sh
dotnet test TokenIdle.sln -c Release --nologo
# The Fashion-MNIST experiment end to end at smoke size (the full run is eng/fashion-mnist/run-experiment.sh).
rm -rf artifacts/fashion-mnist-smoke-ci
bash eng/fashion-mnist/run-experiment.sh --smoke --out artifacts/fashion-mnist-smoke-ci
# The README's main job: the QuickStart sample on the embedded model.
dotnet run --project samples/QuickStart -c Release
# The script user's path: the .NET 10 file-based app (finetune, evaluate, save). Built under artifacts/, not in the
# SDK's per-user cache of file-based apps, which nothing empties (each build there is over 1 GB with libtorch).
dotnet run samples/Script/finetune.cs --artifacts-path artifacts/script-build -- samples/data/fashion-mnist artifacts/script-model.zip
# The ONNX path: IdleViT exported by the CLI, scored by a plain ML.NET pipeline (LoadImages → ResizeImages →
# ExtractPixels → ApplyOnnxModel) that does not reference this library, saved as a zip and reloaded.
dotnet run --project src/Microsoft.ML.TokenIdle.Cli -c Release -- export-onnx --config models/fashion-mnist-vit/config.json \
    --weights models/fashion-mnist-vit/model.safetensors --method idle --keep-rate 0.7 --input-pixels bytes --output artifacts/fashion-mnist-idle.onnx
dotnet run --project samples/OnnxScoring -c Release -- artifacts/fashion-mnist-idle.onnx samples/data/fashion-mnist/test artifacts/onnx-scoring.zip
# The same model exported with int8 weight products (--quantize int8) through the same, unchanged ML.NET pipeline:
# its accuracy on the 300 sample images prints beside float32's above.
dotnet run --project src/Microsoft.ML.TokenIdle.Cli -c Release -- export-onnx --config models/fashion-mnist-vit/config.json \
    --weights models/fashion-mnist-vit/model.safetensors --method idle --keep-rate 0.7 --input-pixels bytes --quantize int8 --output artifacts/fashion-mnist-idle-int8.onnx
dotnet run --project samples/OnnxScoring -c Release -- artifacts/fashion-mnist-idle-int8.onnx samples/data/fashion-mnist/test artifacts/onnx-scoring-int8.zip
# The package as users get it: packed to a local feed, consumed outside the repository on Microsoft.ML 6.0.0 (build,
# publish, a second process scores the zip identically; beside Microsoft.ML.TorchSharp; a file-based app).
bash eng/package/test-package.sh
# The CLI published framework-dependent, self-contained and single-file runs macs, bench and infer.
bash eng/package/test-cli-publish.sh
