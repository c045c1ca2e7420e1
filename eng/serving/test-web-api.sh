#!/usr/bin/env bash
# The generated web API (tokenidle generate --web-api) built and run as a user would, on 127.0.0.1 only:
#  - 300 sample images from 16 concurrent clients get exactly `tokenidle predict`'s labels, and batches form;
#  - bad bodies: 400 / 413 / 415, one-line JSON;
#  - overload against a queue of 4: some 503 with Retry-After, no request past its timeout, /health 200 after;
#  - the zip replaced under load: no failed request, answers switch to the new model;
#  - 10,000 requests: resident memory grows less than 64 MB after a warm-up of 1,000.
# Every server is stopped when the script ends, whatever happens. Called by eng/test.sh (CI).
# usage: eng/serving/test-web-api.sh   (after `dotnet build TokenIdle.sln -c Release`)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
cli=(dotnet "$repo/src/Microsoft.ML.TokenIdle.Cli/bin/Release/net10.0/tokenidle.dll")
work=$(mktemp -d "${TMPDIR:-/tmp}/tokenidle-web-api.XXXXXX")
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# start NAME [VAR=VALUE...]: runs the web API with those settings on a free loopback port; sets $url and $pid.
start() {
  local name=$1; shift
  local port; port=$(free_port)
  url=http://127.0.0.1:$port
  env ASPNETCORE_URLS="$url" "$@" dotnet "$web/bin/Release/net10.0/FashionApp.WebApi.dll" >"$work/$name.log" 2>&1 &
  pid=$!
  servers+=("$pid")
  for _ in $(seq 1 120); do
    if curl -sf "$url/health" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "test-web-api: the server ($name) exited:" >&2; cat "$work/$name.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "test-web-api: the server ($name) was not healthy within 60 s" >&2; cat "$work/$name.log" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

# Two models of the README's pipeline: the embedded Fashion-MNIST ViT with token idling (k = 0.7) and without.
for kind in idle full; do
  dotnet run eng/serving/make-model-zip.cs --artifacts-path "$work/zip-build" -- "$work/$kind.zip" fashion-mnist $kind >/dev/null
done
rm -rf "$work/zip-build"
images=(samples/data/fashion-mnist/test/*/*.png)
"${cli[@]}" predict --model "$work/idle.zip" --top 3 "${images[@]}" >"$work/idle.jsonl"
"${cli[@]}" predict --model "$work/full.zip" --top 3 "${images[@]}" >"$work/full.jsonl"

"${cli[@]}" generate --model "$work/idle.zip" --name Fashion --output "$work/app" --web-api \
  --library "$repo/src/Microsoft.ML.TokenIdle/Microsoft.ML.TokenIdle.csproj" >/dev/null
web=$work/app/FashionApp.WebApi
dotnet build "$web" -c Release --nologo -v quiet -warnaserror >/dev/null

# Labels under concurrency, bad bodies (a 64 KiB body limit), and memory over 10,000 requests, on one server.
start main Serving__MaxRequestBytes=65536
python3 eng/serving/load.py labels "$url" --expect "$work/idle.jsonl" --clients 16
python3 eng/serving/load.py errors "$url" "${images[0]}" --max-bytes 65536
python3 eng/serving/load.py memory "$url" "${images[0]}" --pid "$pid" --requests 10000 --clients 16 --max-growth-mb 64
stop

# Overload: a queue of 4, one request per batch, 64 clients; a request waits at most 10 s.
start overload Predictor__QueueCapacity=4 Predictor__MaxBatchSize=1 Serving__RequestTimeout=00:00:10
python3 eng/serving/load.py overload "$url" "${images[0]}" --clients 64 --requests 640 --timeout 10
stop

# Reload under load: the served zip (the copy beside the program, as generated) replaced by the full model atomically.
served=$web/bin/Release/net10.0/Fashion.mlnet
start reload Predictor__WatchInterval=00:00:00.200
python3 eng/serving/load.py reload "$url" --old "$work/idle.jsonl" --new "$work/full.jsonl" --clients 8 \
  --swap "cp '$work/full.zip' '$served.new' && mv '$served.new' '$served'"
stop
echo "test-web-api: passed"
