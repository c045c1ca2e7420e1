#!/usr/bin/env bash
# ToMe's merge on ONNX Runtime in its two graph forms, side by side: our export (the merge as a product with the
# destinations' one-hot matrix) against the same graph with each merge rewritten as ScatterElements(reduction="add")
# (eng/bench/tome_scatter_elements.py), and the full model's export; on the deit-tiny fixture's weights (DeiT-Ti,
# 224 px), r = 13. Rounds alternate, the order reversed every other round; one JSON line per measurement in
# artifacts/bench/tome-forms/results.jsonl, then a table of medians (min–max) and ratios within each round.
# usage: eng/bench/tome-merge-forms.sh [rounds=3] [seconds=12] [batch=32] [threads=2]   (needs python3-onnx)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"; seconds="${2:-12}"; batch="${3:-32}"; threads="${4:-2}"
fixture="${TOKENIDLE_FIXTURES:-../shared/fixtures}/deit-tiny"
out=artifacts/bench/tome-forms
mkdir -p "$out"
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet -o artifacts/cli >/dev/null
dotnet build eng/bench/onnxruntime-deit.cs -c Release --nologo -v quiet -o "$out/ort" >/dev/null
cli() { dotnet artifacts/cli/tokenidle.dll export-onnx --config "$fixture/config.json" --weights "$fixture/weights.safetensors" "$@" >/dev/null; }
cli --output "$out/full.onnx"
cli --method tome --merge 13 --output "$out/one-hot.onnx"
/usr/bin/python3 eng/bench/tome_scatter_elements.py "$out/one-hot.onnx" "$out/scatter-elements.onnx"
forms=(full one-hot scatter-elements)
rm -f "$out/results.jsonl"
for ((round = 1; round <= rounds; round++)); do
  order=("${forms[@]}")
  if ((round % 2 == 0)); then order=(scatter-elements one-hot full); fi
  for form in "${order[@]}"; do
    dotnet "$out/ort/onnxruntime-deit.dll" "$out/$form.onnx" "$batch" "$threads" "$seconds" \
      | /usr/bin/python3 -c "import json,sys; r=json.loads(sys.stdin.read()); r.update(form='$form', round=$round); print(json.dumps(r))" >>"$out/results.jsonl"
  done
done
/usr/bin/python3 - "$out/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["form"], {})[r["round"]] = r["images_per_second"]
def spread(values, fmt):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"
print("| graph | img/s | ÷ full model | ÷ one-hot merge |\n|---|---|---|---|")
for form in ("full", "one-hot", "scatter-elements"):
    rounds = sorted(by[form])
    print(f"| {form} | {spread([by[form][k] for k in rounds], '{:.2f}')} | {spread([by[form][k] / by['full'][k] for k in rounds], '{:.2f}×')} | "
          f"{spread([by[form][k] / by['one-hot'][k] for k in rounds], '{:.2f}×')} |")
PY
