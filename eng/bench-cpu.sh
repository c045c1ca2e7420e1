#!/usr/bin/env bash
# CPU throughput of DeiT-S (random weights, 224 px), everything measured side by side in one run, the contestants
# alternating inside each round (their order reversed every other round), ROUNDS rounds:
#  scoring:  ours (tokenidle bench) | a bare TorchSharp DeiT-S loop (eng/bench/bare-torchsharp-deit.cs) |
#            PyTorch 1.13 (eng/bench/torch_deit_bench.py, timm's structure) | ONNX Runtime 1.32 on that model
#            exported with torch.onnx (eng/bench/onnxruntime-deit.cs);
#  training: one step (forward, cross-entropy, backward, AdamW) for ours | bare TorchSharp | PyTorch;
#  methods:  each method at k = 0.7 and 0.5 against our full model of the same round (scoring).
# With SUITE=precision: float32 against bfloat16 (bfloat16 scoring; mixed-precision training step), and each method
#  at k = 0.7 against our full model in the same precision; `bench` prints the CPU's features beside each line.
# With SUITE=onnx instead: ONNX Runtime 1.32 scoring our exported models (tokenidle bench --runtime onnxruntime:
#  full, and each method at k = 0.7 and 0.5; int8 (--quantize int8): full and each method at k = 0.7) against
#  timm's DeiT-S exported by torch.onnx on ONNX Runtime and our TorchSharp full model.
# Raw lines go to artifacts/bench/results.jsonl; the tables (min/median/max over rounds, ratios taken within
# each round) are printed by eng/bench/summarise.py.
# With SUITE=runtimes: the engines suite without the methods (scoring and training step: ours, bare, PyTorch, ORT).
# With SUITE=tome: token merging at r = 13 against our full model, scoring on TorchSharp in float32 and in bfloat16, and
# on ONNX Runtime (our export) in float32 and int8.
# usage: eng/bench-cpu.sh [rounds=3] [seconds=15] [batch=32] [threads=2] [suite=engines|runtimes|onnx|precision|tome]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"; seconds="${2:-15}"; batch="${3:-32}"; threads="${4:-2}"; suite="${5:-engines}"
bash eng/install-deps.sh --bench
out=artifacts/bench
mkdir -p "$out"
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet -o artifacts/cli >/dev/null
if [[ "$suite" != precision && "$suite" != tome ]]; then
  dotnet build eng/bench/bare-torchsharp-deit.cs -c Release --nologo -v quiet -o "$out/bare" >/dev/null
  dotnet build eng/bench/onnxruntime-deit.cs -c Release --nologo -v quiet -o "$out/ort" >/dev/null
  /usr/bin/python3 eng/bench/torch_deit_bench.py --batch "$batch" --export-onnx "$out/deit-s.onnx" 2>/dev/null
fi

run() {  # NAME COMMAND... : one measurement, tagged with its name and round
  local name=$1; shift
  "$@" | /usr/bin/python3 -c "import json,sys; r=json.loads(sys.stdin.read()); r.update(contestant='$name', round=$round); print(json.dumps(r))" >>"$out/results.jsonl"
}
ours() { dotnet artifacts/cli/tokenidle.dll bench --model deit-small --batch "$batch" --threads "$threads" --seconds "$seconds" "$@"; }
torch_py() { /usr/bin/python3 eng/bench/torch_deit_bench.py --batch "$batch" --threads "$threads" --seconds "$seconds" "$@"; }
bare() { dotnet "$out/bare/bare-torchsharp-deit.dll" "$batch" "$threads" "$seconds" "$@"; }
ort() { dotnet "$out/ort/onnxruntime-deit.dll" "$out/deit-s.onnx" "$batch" "$threads" "$seconds"; }

ks=(0.7 0.5)
if [[ "$suite" == precision ]]; then
  contestants=()
  for p in float32 bfloat16; do
    contestants+=("$p:score|ours --precision $p" "$p:train|ours --train --precision $p")
    for method in evit evit-fuse idle life; do
      contestants+=("$p:method:$method:0.7|ours --precision $p --method $method --keep-rate 0.7")
    done
  done
  ks=()
elif [[ "$suite" == tome ]]; then
  contestants=()
  for p in float32 bfloat16; do
    contestants+=("$p:score|ours --precision $p" "$p:tome:13|ours --precision $p --method tome --merge 13")
  done
  contestants+=("ort:score|ours --runtime onnxruntime" "ort:tome:13|ours --runtime onnxruntime --method tome --merge 13")
  contestants+=("ortint8:score|ours --runtime onnxruntime --quantize int8" "ortint8:tome:13|ours --runtime onnxruntime --quantize int8 --method tome --merge 13")
  ks=()
elif [[ "$suite" == onnx ]]; then
  contestants=(
    "onnx:timm|ort"
    "onnx:full|ours --runtime onnxruntime"
    "onnx:torchsharp|ours"
    "int8:full|ours --runtime onnxruntime --quantize int8"
  )
  for method in evit evit-fuse idle life; do
    contestants+=("int8:$method:0.7|ours --runtime onnxruntime --quantize int8 --method $method --keep-rate 0.7")
  done
  methods_on=(onnx --runtime onnxruntime)
else
  contestants=(
    "score:ours|ours"
    "score:bare|bare"
    "score:torch|torch_py"
    "score:ort|ort"
    "train:ours|ours --train"
    "train:bare|bare train"
    "train:torch|torch_py --train"
  )
  methods_on=(method)
  if [[ "$suite" == runtimes ]]; then ks=(); fi
fi
for k in "${ks[@]}"; do
  for method in evit evit-fuse idle life; do
    contestants+=("${methods_on[0]}:$method:$k|ours ${methods_on[*]:1} --method $method --keep-rate $k")
  done
done

rm -f "$out/results.jsonl"
for ((round = 1; round <= rounds; round++)); do
  order=("${contestants[@]}")
  if ((round % 2 == 0)); then
    order=(); for ((i = ${#contestants[@]} - 1; i >= 0; i--)); do order+=("${contestants[i]}"); done
  fi
  for entry in "${order[@]}"; do
    IFS='|' read -r name command <<<"$entry"
    echo "round $round: $name" >&2
    # shellcheck disable=SC2086
    run "$name" $command
  done
done
/usr/bin/python3 eng/bench/summarise.py "$out/results.jsonl" "$rounds" "$seconds" "$batch" "$threads"
