#!/usr/bin/env bash
# CPU throughput of the DeiT-S shape (random weights, 224 px), measured side by side in one run:
#  torch:   ours (tokenidle bench) against a plain-torch DeiT-S (eng/torch_deit_bench.py, Debian's
#           python3-torch) with the same batch and thread count; inference and one training step;
#  methods: each token-reduction method at k = 0.7 and 0.5 against our own full model (scoring),
#           the full model measured before and after the methods and averaged.
# usage: eng/bench-cpu.sh [batch=32] [threads=2] [seconds=20] [section=all|torch|methods]
set -euo pipefail
cd "$(dirname "$0")/.."
batch="${1:-32}"; threads="${2:-2}"; seconds="${3:-20}"; section="${4:-all}"
bash eng/install-deps.sh --bench
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet -o artifacts/cli >/dev/null
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }
bench() { dotnet artifacts/cli/tokenidle.dll bench --model deit-small --batch "$batch" --threads "$threads" --seconds "$seconds" "$@"; }
ratio() { /usr/bin/python3 -c "print(f'{$1/$2:.2f}x')"; }

if [[ $section == all || $section == torch ]]; then
  echo "| mode | ours (img/s) | PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') (img/s) | ratio |"
  echo "|---|---|---|---|"
  for mode in inference train; do
    flag=""; [[ $mode == train ]] && flag="--train"
    ours=$(bench $flag | field images_per_second)
    torch=$(/usr/bin/python3 eng/torch_deit_bench.py --embed 384 --heads 6 --depth 12 --batch "$batch" --threads "$threads" --seconds "$seconds" $flag | field images_per_second)
    echo "| $mode, batch $batch, $threads threads | $ours | $torch | $(ratio "$ours" "$torch") |"
  done
  for gemm in openblas managed; do
    echo "GEMM kernel $gemm (inference): $(TOKENIDLE_GEMM=$gemm bench)"
  done
  echo
fi

if [[ $section == all || $section == methods ]]; then
  before=$(bench --method full | field images_per_second)
  rows=()
  for k in 0.7 0.5; do
    for method in evit evit-fuse idle life; do
      json=$(bench --method "$method" --keep-rate "$k")
      rows+=("$method|$k|$(echo "$json" | field paper_gmacs)|$(echo "$json" | field executed_gmacs)|$(echo "$json" | field images_per_second)")
    done
  done
  after=$(bench --method full | field images_per_second)
  full=$(/usr/bin/python3 -c "print(round(($before + $after) / 2, 2))")
  echo "| method | k | GMACs (paper) | GMACs (executed) | img/s | vs our full model |"
  echo "|---|---|---|---|---|---|"
  gmacs=$(dotnet artifacts/cli/tokenidle.dll macs --model deit-small | field paper_gmacs)
  echo "| full | 1 | $gmacs | $gmacs | $full ($before before, $after after) | 1.00x |"
  for row in "${rows[@]}"; do
    IFS='|' read -r method k paper executed ips <<<"$row"
    echo "| $method | $k | $paper | $executed | $ips | $(ratio "$ips" "$full") |"
  done
fi
