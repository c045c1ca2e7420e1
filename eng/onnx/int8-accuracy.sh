#!/usr/bin/env bash
# int8 vs float32 on ONNX Runtime: the shipped Fashion-MNIST model's top-1 on the 10,000 test images, full and each
# method at k = 0.7 (the backbone with the method applied, no finetune), one JSON line per run
# (docs/results-fashion-mnist.md, "int8"). usage: bash eng/onnx/int8-accuracy.sh [OUTPUT.jsonl]
set -euo pipefail
cd "$(dirname "$0")/../.."
output=${1:-artifacts/int8-accuracy.jsonl}
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet -o artifacts/cli >/dev/null
mkdir -p "$(dirname "$output")"
: >"$output"
for method in full idle evit-fuse life; do
  for quantize in none int8; do
    dotnet artifacts/cli/tokenidle.dll evaluate --config models/fashion-mnist-vit/config.json \
      --weights models/fashion-mnist-vit/model.safetensors --data fashion-mnist:test --method $method --keep-rate 0.7 \
      --runtime onnxruntime --quantize $quantize --threads 2 | tee -a "$output"
  done
done
