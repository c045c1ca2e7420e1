#!/usr/bin/env bash
# CPU throughput of the DeiT-S shape (random weights, 224 px): ours (tokenidle bench) against a
# plain-torch DeiT-S (eng/torch_deit_bench.py, Debian's python3-torch) in the same run, with the
# same batch and thread count; inference and one training step (forward + cross-entropy + backward).
# usage: eng/bench-cpu.sh [batch=32] [threads=2] [seconds=20]
set -euo pipefail
cd "$(dirname "$0")/.."
batch="${1:-32}"; threads="${2:-2}"; seconds="${3:-20}"
bash eng/install-deps.sh --bench
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet -o artifacts/cli >/dev/null
ips() { sed -E 's/.*"images_per_second": ?([0-9.]+).*/\1/'; }
echo "| mode | ours (img/s) | PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') (img/s) | ratio |"
echo "|---|---|---|---|"
for mode in inference train; do
  flag=""; [[ $mode == train ]] && flag="--train"
  ours=$(dotnet artifacts/cli/tokenidle.dll bench --model deit-small --batch "$batch" --threads "$threads" --seconds "$seconds" $flag | ips)
  torch=$(/usr/bin/python3 eng/torch_deit_bench.py --embed 384 --heads 6 --depth 12 --batch "$batch" --threads "$threads" --seconds "$seconds" $flag | ips)
  echo "| $mode, batch $batch, $threads threads | $ours | $torch | $(/usr/bin/python3 -c "print(f'{$ours/$torch:.2f}x')") |"
done
for gemm in openblas managed; do
  echo "GEMM kernel $gemm (inference): $(TOKENIDLE_GEMM=$gemm dotnet artifacts/cli/tokenidle.dll bench --model deit-small --batch "$batch" --threads "$threads" --seconds "$seconds")"
done
