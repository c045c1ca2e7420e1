#!/usr/bin/env bash
# Fashion-MNIST training (the experiment's backbone, images in memory) with the CLI built from an earlier revision and
# with this tree's, side by side: ROUNDS rounds, the two alternating (order reversed every other round), each one
# epoch on the first LIMIT training images, batch 128, 2 threads. Prints a JSON line per run (seconds, the weights'
# SHA-256) and a summary: min/median/max of the per-round time ratio, and whether the weights are identical.
# usage: eng/data/fashion-mnist-before-after.sh REV [rounds=3] [limit=20000]
set -euo pipefail
cd "$(dirname "$0")/../.."
rev="$1"; rounds="${2:-3}"; limit="${3:-20000}"
out=artifacts/fashion-mnist-before-after
rm -rf "$out/before-src" "$out"/run-*
mkdir -p "$out/before-src"
git archive "$rev" | tar -x -C "$out/before-src"
dotnet build "$out/before-src/src/Microsoft.ML.TokenIdle.Cli" -c Release --nologo -v quiet -o "$out/before-cli" >/dev/null
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet -o "$out/after-cli" >/dev/null
: >"$out/results.jsonl"
for round in $(seq 1 "$rounds"); do
  order=(before after); (( round % 2 == 0 )) && order=(after before)
  for which in "${order[@]}"; do
    dir="$out/run-$which-$round"
    /usr/bin/time -f "%e" -o "$out/time.txt" dotnet "$out/$which-cli/tokenidle.dll" train --config eng/fashion-mnist/backbone-config.json \
      --data fashion-mnist:train --limit "$limit" --epochs 1 --batch-size 128 --lr 1e-3 --seed 1 --threads 2 --output "$dir" >/dev/null 2>"$dir.log"
    echo "{\"round\":$round,\"build\":\"$which\",\"seconds\":$(cat "$out/time.txt"),\"weights_sha256\":\"$(sha256sum "$dir/best.safetensors" | cut -c1-16)\"}" | tee -a "$out/results.jsonl"
  done
done
/usr/bin/python3 - "$out/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["round"], r["build"]): r for r in rows}
ratios = sorted(by[(k, "after")]["seconds"] / by[(k, "before")]["seconds"] for k in sorted({r["round"] for r in rows}))
print(json.dumps({"summary": "after/before seconds", "min": round(ratios[0], 3), "median": round(statistics.median(ratios), 3), "max": round(ratios[-1], 3),
                  "identical_weights": len({r["weights_sha256"] for r in rows}) == 1}))
PY
