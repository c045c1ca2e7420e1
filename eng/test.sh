#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds (warnings are errors), runs xunit and the
# experiment smoke run.
# The fixtures are read from ../shared/fixtures (or TOKENIDLE_FIXTURES).
set -euo pipefail
cd "$(dirname "$0")/.."
# Disk first, in one line, rather than MSBuild's copy retries minutes later: a clean clone grows by ~7 GB (build outputs
# with libtorch) and the package and publish checks hold ~4 GB in $TMPDIR at their peak (README, Tests).
tmp=${TMPDIR:-/tmp}
repo_gib=$([[ -d test/Microsoft.ML.TokenIdle.Tests/bin ]] && echo 1 || echo 7) tmp_gib=4
require_free() { # PATH GIB
  local free; free=$(df -P -BG "$1" | awk 'NR == 2 {print $4 + 0}')
  (( free >= $2 )) || { echo "eng/test.sh: needs $2 GiB free on the file system of $1; $free GiB are free" >&2; exit 1; }
}
if [[ $(df -P "$PWD" | awk 'NR == 2 {print $1}') == $(df -P "$tmp" | awk 'NR == 2 {print $1}') ]]; then
  require_free "$PWD" $((repo_gib + tmp_gib))
else
  require_free "$PWD" "$repo_gib"; require_free "$tmp" "$tmp_gib"
fi
bash eng/install-deps.sh
dotnet build TokenIdle.sln -c Release --nologo
# The whole test project under this CPU's kernels and under libtorch's kernels lowered to an AVX2 CPU's, an AVX-512 CPU's
# without BF16 and the x86-64 floor (SSE4.1), each numeric bound's largest use printed (docs/testing.md).
bash eng/test-cpus.sh --no-build
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
