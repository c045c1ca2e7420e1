#!/usr/bin/env bash
# The pictures of docs/images: token-selection strips of a real Fashion-MNIST test image with the
# finetuned models of the experiment (run eng/fashion-mnist/run-experiment.sh first), strips of a real
# photo with the deit-tiny fixture checkpoint (random weights: it shows the mechanism, not a trained
# model's choice), and the trade-off plots of the experiment's results.
# usage: bash eng/make-doc-images.sh [EXPERIMENT_FOLDER (default artifacts/fashion-mnist)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-artifacts/fashion-mnist}
fixtures=${TOKENIDLE_FIXTURES:-../shared/fixtures}
out=docs/images
mkdir -p "$out" /tmp/tokenidle-doc-images
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v q >&2
tokenidle() { dotnet src/Microsoft.ML.TokenIdle.Cli/bin/Release/net10.0/tokenidle.dll "$@"; }
boot=samples/data/fashion-mnist/test/9-ankle-boot/t10k-00000.png
photo=test/Microsoft.ML.TokenIdle.Tests/Imaging/Data/rocket.jpg

for run in idle.0.7 evit-fuse.0.5 idle.0.5; do
  method=${run%.*.*}; k=${run#*.}
  tokenidle visualize --config "$runs/finetune.$run/config.json" --weights "$runs/finetune.$run/best.safetensors" \
    --method "$method" --keep-rate "$k" --output /tmp/tokenidle-doc-images "$boot" > /dev/null
  mv "/tmp/tokenidle-doc-images/t10k-00000.$method.png" "$out/fashion-mnist-boot.$method-k$k.png"
done
tokenidle visualize --config "$runs/finetune.life.0.5/config.json" --weights "$runs/finetune.life.0.5/best.safetensors" \
  --predictor "$runs/finetune.life.0.5/best.predictor.safetensors" --method life --keep-rate 0.5 --output /tmp/tokenidle-doc-images "$boot" > /dev/null
mv /tmp/tokenidle-doc-images/t10k-00000.life.png "$out/fashion-mnist-boot.life-k0.5.png"

# ToMe finetuned at r = 2 (trained, so scored, without proportional attention): the regions merged into one token.
tokenidle visualize --config "$runs/finetune.tome.2/config.json" --weights "$runs/finetune.tome.2/best.safetensors" \
  --method tome --merge 2 --proportional-attention false --output /tmp/tokenidle-doc-images "$boot" > /dev/null
mv /tmp/tokenidle-doc-images/t10k-00000.tome.png "$out/fashion-mnist-boot.tome-r2.png"
tokenidle visualize --config "$fixtures/deit-tiny/config.json" --weights "$fixtures/deit-tiny/weights.safetensors" \
  --method tome --merge 13 --output /tmp/tokenidle-doc-images "$photo" > /dev/null
mv /tmp/tokenidle-doc-images/rocket.tome.png "$out/rocket.tome-r13.deit-tiny-random-weights.png"

for method in idle evit-fuse; do
  tokenidle visualize --config "$fixtures/deit-tiny/config.json" --weights "$fixtures/deit-tiny/weights.safetensors" \
    --method "$method" --keep-rate 0.7 --output /tmp/tokenidle-doc-images "$photo" > /dev/null
  mv "/tmp/tokenidle-doc-images/rocket.$method.png" "$out/rocket.$method-k0.7.deit-tiny-random-weights.png"
done

tokenidle plot --results "$runs/results.jsonl" --output "$out" > /dev/null
# The rerun with timm's crops and ToMe (results-fashion-mnist.md), when it is there.
if [[ -f artifacts/fashion-mnist-rerun/results.jsonl ]]; then
  tokenidle plot --results artifacts/fashion-mnist-rerun/results.jsonl --output /tmp/tokenidle-doc-images --title "Fashion-MNIST ViT, timm's crops" > /dev/null
  for ext in png svg; do mv "/tmp/tokenidle-doc-images/tradeoff-gmacs.$ext" "$out/tradeoff-gmacs-timm-crops-with-tome.$ext"; done
fi
ls -1 "$out"
