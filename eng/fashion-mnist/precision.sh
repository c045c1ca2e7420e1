#!/usr/bin/env bash
# bfloat16 against float32 on real data: the shipped Fashion-MNIST model (models/fashion-mnist-vit) scored on the
# 10,000 test images in both precisions (full model and IdleViT k = 0.7), then a one-epoch IdleViT k = 0.7 finetune
# from it (the recipe of run-experiment.sh) trained in float32 and in bfloat16 (mixed precision), each evaluated on
# the test images in float32 and in its own precision. One JSON line per evaluation (key, precision of the training
# and of the scoring, top-1, …) in OUT/results.jsonl; rerunning skips what is there.
# usage: eng/fashion-mnist/precision.sh [out=artifacts/fashion-mnist-precision] [--smoke]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-artifacts/fashion-mnist-precision}"
finetune_size=(); eval_size=()
if [[ "${2:-}" == --smoke ]]; then finetune_size=(--limit 256); eval_size=(--limit 256); fi
source eng/fashion-mnist/results.sh
config=models/fashion-mnist-vit/config.json
shipped=models/fashion-mnist-vit/model.safetensors

record() {  # KEY TRAIN_PRECISION TRAIN_SECONDS JSON
  /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[4]); d.update(key=sys.argv[1], trained_in=sys.argv[2], train_seconds=float(sys.argv[3])); print(json.dumps(d))' "$@" >> "$results"
}
evaluate() {  # KEY TRAIN_PRECISION TRAIN_SECONDS WEIGHTS SCORING_PRECISION METHOD…
  local key=$1 trained=$2 seconds=$3 weights=$4 precision=$5; shift 5
  has "$key" || record "$key" "$trained" "$seconds" "$(tokenidle evaluate --config "$config" --weights "$weights" --precision "$precision" "$@" "${eval_size[@]}")"
}

for precision in float32 bfloat16; do
  evaluate "shipped.full.$precision" none 0 "$shipped" "$precision"
  evaluate "shipped.idle0.7.$precision" none 0 "$shipped" "$precision" --method idle --keep-rate 0.7
done

for trained in float32 bfloat16; do
  dir="$out/idle0.7.$trained"
  seconds=0
  if [[ ! -f "$dir/best.safetensors" ]]; then
    start=$SECONDS
    tokenidle train --config "$config" --weights "$shipped" --method idle --keep-rate 0.7 --precision "$trained" \
      "${finetune_size[@]}" --epochs 1 --lr 2e-4 --warmup-epochs 0.1 --batch-size 128 --weight-decay 0.05 --label-smoothing 0.1 \
      --min-crop-scale 0.85 --flip --seed 0 --output "$dir" > "$dir.train.json"
    seconds=$((SECONDS - start))
  fi
  for precision in float32 bfloat16; do
    evaluate "idle0.7.trained-$trained.scored-$precision" "$trained" "$seconds" "$dir/best.safetensors" "$precision" --method idle --keep-rate 0.7
  done
done
cat "$results"
