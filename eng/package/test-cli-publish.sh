#!/usr/bin/env bash
# `dotnet publish` of the CLI gives a tokenidle that runs on this system (CI runs this from eng/test.sh): framework-
# dependent, self-contained linux-x64 and single-file (native libraries beside the executable, the default). Each runs
# macs, bench and infer on the micro fixture; the three infer outputs must be the same bytes.
set -euo pipefail
cd "$(dirname "$0")/../.."
fixtures="${TOKENIDLE_FIXTURES:-../shared/fixtures}"
micro=$fixtures/micro
work=$(mktemp -d "${TMPDIR:-/tmp}/tokenidle-publish.XXXXXX")
trap 'rm -rf "$work"' EXIT
declare -A modes=(
  [framework-dependent]=""
  [self-contained]="-r linux-x64 --self-contained"
  [single-file]="-r linux-x64 --self-contained -p:PublishSingleFile=true"
)
for mode in framework-dependent self-contained single-file; do
  echo "== publish: $mode" >&2
  # shellcheck disable=SC2086
  dotnet publish src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v quiet ${modes[$mode]} -o "$work/$mode" >"$work/$mode.log" || { cat "$work/$mode.log"; exit 1; }
  cli=$work/$mode/tokenidle
  "$cli" macs --config "$micro/config.json" --method idle --keep-rate 0.7
  "$cli" bench --config "$micro/config.json" --weights "$micro/weights.safetensors" --method idle --keep-rate 0.7 --batch 8 --threads 1 --seconds 1
  "$cli" infer --config "$micro/config.json" --weights "$micro/weights.safetensors" --input "$micro/expected.safetensors" --output "$work/$mode.safetensors" >/dev/null
  rm -rf "${work:?}/$mode" # over 1 GB each with libtorch; the output compared below is outside it
done
cmp "$work/framework-dependent.safetensors" "$work/self-contained.safetensors"
cmp "$work/framework-dependent.safetensors" "$work/single-file.safetensors"
echo "== publish: passed" >&2
