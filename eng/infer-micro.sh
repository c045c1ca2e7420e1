#!/usr/bin/env bash
# The main job for now: score the 'micro' fixture's images with tokenidle infer and print the classes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash eng/install-deps.sh
fixtures="${TOKENIDLE_FIXTURES:-../shared/fixtures}"
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet -o artifacts/cli >/dev/null
dotnet artifacts/cli/tokenidle.dll infer \
  --config "$fixtures/micro/config.json" \
  --weights "$fixtures/micro/weights.safetensors" \
  --input "$fixtures/micro/expected.safetensors" \
  --output artifacts/micro-logits.safetensors
echo "logits written to artifacts/micro-logits.safetensors"
