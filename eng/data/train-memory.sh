#!/usr/bin/env bash
# Peak resident memory (/usr/bin/time's %M) of training at 224 px with the streaming pipeline, independent of the
# dataset's size: `tokenidle train` on folders of 5,000 and 50,000 small random PNGs (50,000 decode to 7.5 GB of
# model input), and an ML.NET pipeline (eng/data/mlnet-train.cs: LoadImages + the VisionTransformer trainer) on 5,000
# and 20,000 path rows; deit-tiny's shape with 10 classes, STEPS steps of BATCH images, 2 threads.
# Prints one JSON line per run (also in artifacts/data-memory/results.jsonl).
# usage: eng/data/train-memory.sh [steps=100] [batch=32]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps="${1:-100}"; batch="${2:-32}"
out=artifacts/data-memory
mkdir -p "$out"
dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet -o artifacts/cli >/dev/null
dotnet build eng/data/mlnet-train.cs -c Release --nologo -v quiet -o "$out/mlnet" >/dev/null
config="$out/deit-tiny-10.json"
echo '{"img_size":224,"patch_size":16,"in_chans":3,"num_classes":10,"embed_dim":192,"depth":12,"num_heads":3}' >"$config"
for n in 5000 50000; do
  [[ -d "$out/png-$n" ]] || dotnet run eng/data/make-image-folder.cs -- "$out/png-$n" "$n" 10 32 32 png >&2
done

measure() {  # NAME IMAGES COMMAND... : peak RSS and wall time of one run
  local name=$1 images=$2; shift 2
  /usr/bin/time -f "%M %e" -o "$out/time.txt" "$@" >"$out/stdout.txt" 2>"$out/stderr-$name-$images.txt"
  read -r rss seconds <"$out/time.txt"
  echo "{\"run\":\"$name\",\"images\":$images,\"steps\":$steps,\"batch\":$batch,\"peak_rss_mb\":$((rss / 1024)),\"seconds\":$seconds}" | tee -a "$out/results.jsonl"
}
for n in 5000 50000; do
  rm -rf "$out/run-$n"
  measure cli "$n" dotnet artifacts/cli/tokenidle.dll train --config "$config" --data "$out/png-$n" --max-steps "$steps" \
    --batch-size "$batch" --threads 2 --output "$out/run-$n"
done
for n in 5000 20000; do
  measure mlnet "$n" dotnet "$out/mlnet/mlnet-train.dll" "$out/png-50000" "$n" "$config" "$steps" "$batch"
done
