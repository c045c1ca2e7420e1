#!/usr/bin/env bash
# The memory estimate (src/Microsoft.ML.TokenIdle/Models/MemoryEstimate.cs) against measured peak resident memory:
# tokenidle bench runs two passes (scoring) or two training steps of each model, method, image size and batch, one
# process each, and reports its estimate beside the resident memory it reached beyond libtorch's own load (minus the
# model's weights when scoring: they are resident before a scoring batch is checked). Prints one line per run, then
# the error's min / median / max. Minutes on 2 cores. docs/reliability.md (Memory) holds a run's output.
# usage: bash eng/memory-estimate.sh [CLI_DLL]   (default: builds the CLI into artifacts/cli)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${1:-}
if [[ -z $cli ]]; then
  dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet -o artifacts/cli >/dev/null
  cli=artifacts/cli/tokenidle.dll
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/memory-estimate.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The Fashion-MNIST ViT (width 96, 3 heads, patch 4) at larger inputs than its 28 px: 442 and 1,226 tokens.
for size in 84 140; do
  python3 - "$size" "$work/fashion-$size.json" <<'PY'
import json, sys
config = json.load(open("models/fashion-mnist-vit/config.json"))
config["img_size"] = int(sys.argv[1])
json.dump(config, open(sys.argv[2], "w"))
PY
done
cat >"$work/line.py" <<'PY'
import json, sys
label, method, mode = sys.argv[1:4]
d = json.loads(sys.stdin.read())
weights = 0 if mode == "train" else d["parameters"] * 4 / 2**20
measured = d["peak_rss_mb"] - d["rss_mb_at_start"] - weights
estimate = d["memory_estimate_mb"]
print(f"{label:14s} {method:9s} {mode:5s} batch {d['batch']:3d} tokens {d['tokens_per_layer'][0]:5d}  "
      f"estimate {estimate:6.0f} MB  measured {measured:6.0f} MB  error {100 * (estimate / measured - 1):+4.0f} %")
PY
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(nproc) cores; $(date -u +%F)"
run() { # LABEL MODEL-FLAGS BATCH MODE METHOD
  local label=$1 model=$2 batch=$3 mode=$4 method=$5 train=""
  [[ $mode == train ]] && train=--train
  # shellcheck disable=SC2086
  dotnet "$cli" bench $model --batch-size "$batch" --threads 2 --steps 2 --seconds 100000 --method "$method" $train \
    | python3 "$work/line.py" "$label" "$method" "$mode"
}
{
  for method in full idle evit-fuse life; do
    for size in 84 140; do
      for mode in score train; do
        run "fashion@$size" "--config $work/fashion-$size.json" 16 "$mode" "$method"
      done
    done
  done
  for method in full idle evit-fuse life; do
    for mode in score train; do
      run "deit-tiny@224" "--model deit-tiny" 16 "$mode" "$method"
    done
  done
  run "deit-small@224" "--model deit-small" 16 train idle
  run "deit-small@224" "--model deit-small" 64 score full
} | tee "$work/lines.txt"
python3 - "$work/lines.txt" <<'PY'
import re, statistics, sys
errors = [int(m.group(1)) for m in (re.search(r"error\s+([+-]\d+) %", l) for l in open(sys.argv[1])) if m]
print(f"error of the estimate over {len(errors)} runs: min {min(errors):+d} %, median {statistics.median(errors):+.0f} %, max {max(errors):+d} %")
PY
