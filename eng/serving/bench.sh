#!/usr/bin/env bash
# Serving throughput and latency of the generated web API on loopback, side by side in one run: the Fashion-MNIST model
# (28 px) and DeiT-S (224 px, random weights after one training step), full and IdleViT k = 0.7, batching on (the
# default: up to the classifier's batch size, 5 ms wait) and off (MaxBatchSize=1), 1 client and 16 concurrent clients;
# and DeiT-S at batch 1 (one client) for each method at k = 0.7 (full, IdleViT, EViT with fusion, life regression).
# Each measurement starts a server (libtorch on THREADS threads), warms it for 2 s, then clients post images for
# SECONDS; the configurations run one after another, in reverse order every other round. The clients (Python, on the
# same machine) share its cores with the server. Raw lines: artifacts/serving-bench/results.jsonl; the tables are
# printed by eng/serving/summarise.py.
# usage: eng/serving/bench.sh [rounds=3] [seconds=10] [threads=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3} seconds=${2:-10} threads=${3:-2}
out=artifacts/serving-bench
mkdir -p "$out"
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet >/dev/null
for spec in "fm full fashion-mnist full" "fm idle fashion-mnist idle" "deit full deit-small full" "deit idle deit-small idle" \
            "deit evit-fuse deit-small evit-fuse" "deit life deit-small life"; do
  set -- $spec
  [[ -f "$out/$1-$2.zip" ]] || dotnet run eng/serving/make-model-zip.cs --artifacts-path "$out/zip-build" -- "$out/$1-$2.zip" "$3" "$4" >/dev/null
done
rm -rf "$out/web"
dotnet src/Microsoft.ML.TokenIdle.Cli/bin/Release/net10.0/tokenidle.dll generate --model "$out/fm-full.zip" --name Bench --output "$out/web" --web-api \
  --library "$PWD/src/Microsoft.ML.TokenIdle/Microsoft.ML.TokenIdle.csproj" >/dev/null
dotnet build "$out/web/BenchApp.WebApi" -c Release --nologo -v quiet >/dev/null

server=
trap '[[ -n $server ]] && kill $server 2>/dev/null || true' EXIT
measure() { # MODEL METHOD BATCHING CLIENTS ROUND
  local model=$1 method=$2 batching=$3 clients=$4 round=$5 port url
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  url=http://127.0.0.1:$port
  local most=()
  [[ $batching == off ]] && most=(Predictor__MaxBatchSize=1)
  env ASPNETCORE_URLS="$url" Serving__ModelPath="$PWD/$out/$model-$method.zip" Predictor__Threads="$threads" Predictor__WatchForChanges=false \
    Logging__LogLevel__Default=Warning "${most[@]}" dotnet "$out/web/BenchApp.WebApi/bin/Release/net10.0/BenchApp.WebApi.dll" >"$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 240); do curl -sf "$url/health" >/dev/null && break; sleep 0.5; done
  python3 eng/serving/load.py bench "$url" samples/data/fashion-mnist/test --clients "$clients" --seconds 2 >/dev/null
  echo "round $round: $model $method batching $batching, $clients clients" >&2
  python3 eng/serving/load.py bench "$url" samples/data/fashion-mnist/test --clients "$clients" --seconds "$seconds" \
    | python3 -c "import json, sys; r = json.loads(sys.stdin.read()); r.update(model='$model', method='$method', batching='$batching', round=$round, threads=$threads); print(json.dumps(r))" >>"$out/results.jsonl"
  kill $server; wait $server 2>/dev/null || true; server=
}

configs=()
for model in fm deit; do for method in full idle; do for batching in on off; do for clients in 1 16; do
  configs+=("$model $method $batching $clients")
done; done; done; done
configs+=("deit evit-fuse on 1" "deit life on 1")
rm -f "$out/results.jsonl"
cpu=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
features=$(grep -oE 'avx512_bf16|amx_[a-z0-9]+|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')
echo "{\"cpu\": \"$cpu\", \"cpu_features\": \"$features\", \"date\": \"$(date -u +%F)\", \"seconds\": $seconds, \"threads\": $threads}" >"$out/machine.json"
for ((round = 1; round <= rounds; round++)); do
  order=("${configs[@]}")
  if ((round % 2 == 0)); then
    order=(); for ((i = ${#configs[@]} - 1; i >= 0; i--)); do order+=("${configs[i]}"); done
  fi
  for config in "${order[@]}"; do measure $config "$round"; done
done
python3 eng/serving/summarise.py "$out"
