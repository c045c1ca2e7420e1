#!/usr/bin/env bash
# The Fashion-MNIST trade-off experiment (docs/results-fashion-mnist.md):
#   1. pretrain a 12-layer ViT (eng/fashion-mnist/backbone-config.json) from scratch on the training split;
#   2. the full model finetuned with the methods' recipe (control); for EViT with fusion, IdleViT and
#      life regression at k = 0.9, 0.7, 0.5, and token merging (ToMe) at r = 1, 2, 3, 4 (0.063, 0.054,
#      0.045, 0.036 GMACs: k = 0.9 to 0.5 span 0.066 to 0.038 on this backbone): test accuracy without finetuning and after a short finetune
#      with each method's recipe;
#   3. IdleViT k = 0.5 with each cut-loss variant, and k = 0.7 / 0.5 with smaller cut-loss weights θ;
#   4. CPU throughput of every method side by side, in three rounds.
# Every result is one JSON line in $OUT/results.jsonl; eng/fashion-mnist/report.py turns them into
# the tables of $OUT/results.md. A step whose result line exists is skipped, so a stopped run continues.
#
# usage: eng/fashion-mnist/run-experiment.sh [--smoke] [--backbone DIR] [--out DIR] [--finetune-images N] [--methods LIST]
#   --smoke              tiny data sizes and epochs: checks the whole pipeline in about two minutes (CI)
#   --backbone DIR       skip pretraining; DIR holds config.json and model.safetensors (e.g. models/fashion-mnist-vit)
#   --out DIR            where checkpoints and results go (default artifacts/fashion-mnist, or ...-smoke)
#   --finetune-images N  finetune on the first N training images (default: all 60,000, one epoch; the
#                        predictor stage uses half as many); the page's third-of-an-epoch run used 20000
#   --methods LIST       the methods of steps 2–4, space-separated (default "evit-fuse idle life tome"; the
#                        cut-loss runs of step 3 need idle)
# TOKENIDLE_CLI=path/to/tokenidle.dll runs that build instead of building the repository's.
set -euo pipefail
cd "$(dirname "$0")/../.."

smoke=0
backbone=""
out=""
finetune_images=""
methods="evit-fuse idle life tome"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1; shift ;;
    --backbone) backbone="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --finetune-images) finetune_images="$2"; shift 2 ;;
    --methods) methods="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [[ $smoke == 1 ]]; then
  out=${out:-artifacts/fashion-mnist-smoke}
  pretrain_size=(--limit 1024 --epochs 1); finetune_size=(--limit 256); predictor_size=(--limit 128)
  eval_size=(--limit 256); bench=(--batch 32 --seconds 0.5); bench_rounds=(1)
else
  out=${out:-artifacts/fashion-mnist}
  # Pretraining: 8 epochs of the 60,000 training images. Finetunes: one pass over the training set or
  # its first N images; the life predictor's stage over half as many.
  pretrain_size=(--epochs 8)
  if [[ -n "$finetune_images" ]]; then
    finetune_size=(--limit "$finetune_images"); predictor_size=(--limit $((finetune_images / 2)))
  else
    finetune_size=(); predictor_size=(--limit 30000)
  fi
  eval_size=(); bench=(--batch 256 --seconds 10); bench_rounds=(1 2 3)
fi

source eng/fashion-mnist/results.sh
# record KEY SECONDS JSON: appends the command's JSON line with the step's key and training time.
record() {
  python3 -c 'import json,sys; d=json.loads(sys.argv[3]); d["key"]=sys.argv[1]; d["train_seconds"]=float(sys.argv[2]); print(json.dumps(d))' "$1" "$2" "$3" >> "$results"
}

common_train=(--batch-size 128 --weight-decay 0.05 --label-smoothing 0.1 --min-crop-scale 0.85 --flip --seed 0)

if [[ -z "$backbone" ]]; then
  backbone="$out/backbone"
  if ! has backbone; then
    start=$SECONDS
    tokenidle train --config eng/fashion-mnist/backbone-config.json --data fashion-mnist:train "${pretrain_size[@]}" \
      --lr 1e-3 --min-lr 1e-5 --warmup-epochs 1 "${common_train[@]}" --output "$backbone" > "$out/backbone.train.json"
    cp "$backbone/best.safetensors" "$backbone/model.safetensors"
    record backbone $((SECONDS - start)) "$(tokenidle evaluate --config "$backbone/config.json" --weights "$backbone/model.safetensors" "${eval_size[@]}")"
  fi
elif ! has backbone; then
  record backbone 0 "$(tokenidle evaluate --config "$backbone/config.json" --weights "$backbone/model.safetensors" "${eval_size[@]}")"
fi
config="$backbone/config.json"
weights="$backbone/model.safetensors"

# rates METHOD: its settings in the main rows (keep ratios; for tome, pairs merged per layer).
rates() { if [[ $1 == tome ]]; then echo "1 2 3 4"; else echo "0.9 0.7 0.5"; fi; }
# rate_flag METHOD: the flag that sets a rate.
rate_flag() { if [[ $1 == tome ]]; then echo --merge; else echo --keep-rate; fi; }

# finetune KEY METHOD K [train options…]: trains from the backbone, then evaluates the result.
finetune() {
  local key=$1 method=$2 k=$3; shift 3
  has "$key" && return 0
  local dir="$out/$key" start=$SECONDS predictor=() flag
  flag=$(rate_flag "$method")
  if [[ $method == life ]]; then
    tokenidle train --config "$config" --weights "$weights" --method life --keep-rate "$k" --stage PredictorOnly \
      "${predictor_size[@]}" --epochs 1 --lr 1e-3 "${common_train[@]}" --output "$dir/predictor" > /dev/null
    predictor=(--predictor "$dir/predictor/best.predictor.safetensors")
    tokenidle train --config "$config" --weights "$weights" --method life --keep-rate "$k" "${predictor[@]}" --stage BackboneOnly \
      "${finetune_size[@]}" --epochs 1 --lr 2e-4 --warmup-epochs 0.1 "${common_train[@]}" "$@" --output "$dir" > /dev/null
  else
    tokenidle train --config "$config" --weights "$weights" --method "$method" "$flag" "$k" \
      "${finetune_size[@]}" --epochs 1 --lr 2e-4 --warmup-epochs 0.1 "${common_train[@]}" "$@" --output "$dir" > /dev/null
  fi
  local seconds=$((SECONDS - start)) trained_as=()
  # ToMe trains without proportional attention (the reference's advice), so its checkpoint is scored so.
  [[ $method == tome ]] && trained_as=(--proportional-attention false)
  record "$key" "$seconds" "$(tokenidle evaluate --config "$config" --weights "$dir/best.safetensors" --method "$method" "$flag" "$k" "${trained_as[@]}" "${predictor[@]}" "${eval_size[@]}")"
}

# Control: the full model finetuned with the same recipe, to separate the recipe's effect from the method's.
finetune finetune.full full 1

for method in $methods; do
  for k in $(rates "$method"); do
    has "nofinetune.$method.$k" || record "nofinetune.$method.$k" 0 \
      "$(tokenidle evaluate --config "$config" --weights "$weights" --method "$method" "$(rate_flag "$method")" "$k" "${eval_size[@]}" 2>/dev/null)"
    finetune "finetune.$method.$k" "$method" "$k"
  done
done

if [[ " $methods " == *" idle "* ]]; then
  for variant in None Inter Intra; do
    finetune "ablation.$variant" idle 0.5 --cut-loss "$variant"
  done

  # The cut loss's weight θ for IdleViT (20 in the main rows; the ablation's None is θ = 0 at k = 0.5).
  finetune theta.idle.0.7.0 idle 0.7 --cut-loss None
  for k in 0.7 0.5; do
    finetune "theta.idle.$k.2" idle "$k" --cut-weight 2
  done
fi

# Throughput side by side: random images of the backbone's shape, batch 256, the full model and every
# method one after another, in three rounds (one at smoke size). report.py gives the medians, since
# single 10-second passes varied between runs. measure KEY [bench options…] records one pass.
measure() { local key=$1; shift; has "$key" || record "$key" 0 "$(tokenidle bench --config "$config" "${bench[@]}" "$@")"; }
for round in "${bench_rounds[@]}"; do
  measure "bench.full.$round"
  for method in $methods; do
    for k in $(rates "$method"); do
      measure "bench.$method.$k.$round" --method "$method" "$(rate_flag "$method")" "$k"
    done
  done
done

python3 eng/fashion-mnist/report.py "$results" > "$out/results.md"
echo "results: $out/results.md" >&2
