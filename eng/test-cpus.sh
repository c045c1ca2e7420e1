#!/usr/bin/env bash
# The test project under this CPU's own kernels and under libtorch's kernels lowered to older CPUs', so one machine shows
# the suite passes on any x86-64 CPU (docs/testing.md). Each setting runs the whole test project (or --filter's part)
# and records every numeric bound it checks (TOKENIDLE_BOUNDS_LOG); the summary prints the largest share of each
# bound each setting used. Usage: bash eng/test-cpus.sh [--no-build] [--settings native,avx2,...] [--filter EXPR]
#
# What each variable moves (measured on an AMD EPYC Zen 5, docs/testing.md): ATEN_CPU_CAPABILITY picks ATen's
# element-wise kernels (default = no vectors); ONEDNN_MAX_CPU_ISA caps oneDNN (convolutions, bfloat16 products);
# MKL_ENABLE_INSTRUCTIONS caps MKL's float32 GEMMs on Intel CPUs (MKL ignores it on AMD ones); MKL_CBWR=COMPATIBLE
# makes MKL take its conditional-numerical-reproducibility code path, another GEMM on every CPU.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A settings=(
  [native]=""
  [avx2]="ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2"
  [avx512-core]="ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX512_CORE MKL_ENABLE_INSTRUCTIONS=AVX512"
  [floor]="ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2 MKL_CBWR=COMPATIBLE"
)
order=(native avx2 avx512-core floor)
build=1 filter=""
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --settings) IFS=, read -r -a order <<<"${2:?--settings takes a comma-separated list}"; shift ;;
    --filter) filter="${2:?--filter takes an expression}"; shift ;;
    *) echo "eng/test-cpus.sh: unknown argument '$1' (--no-build, --settings a,b, --filter EXPR)" >&2; exit 2 ;;
  esac
  shift
done
for name in "${order[@]}"; do
  [[ -v "settings[$name]" ]] || { echo "eng/test-cpus.sh: unknown setting '$name' (${!settings[*]})" >&2; exit 2; }
done

out=artifacts/test-cpus
rm -rf "$out"
mkdir -p "$out"
((build)) && dotnet build test/Microsoft.ML.TokenIdle.Tests -c Release --nologo -v quiet
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "CPU: $cpu; $(grep -oE 'avx512f|avx512_bf16|avx512_fp16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"

failed=()
for name in "${order[@]}"; do
  echo "== $name: ${settings[$name]:-(the kernels libtorch picks for this CPU)}"
  start=$SECONDS
  # shellcheck disable=SC2086 # the setting is a list of NAME=VALUE words
  if env ${settings[$name]} TOKENIDLE_BOUNDS_LOG="$PWD/$out/$name.bounds.tsv" \
      dotnet test test/Microsoft.ML.TokenIdle.Tests -c Release --no-build --nologo ${filter:+--filter "$filter"} \
      --logger "trx;LogFileName=$PWD/$out/$name.trx" >"$out/$name.log" 2>&1; then
    echo "   passed in $((SECONDS - start)) s: $(grep -E '^(Passed|Failed)!' "$out/$name.log" | tail -n 1)"
  else
    failed+=("$name")
    echo "   FAILED in $((SECONDS - start)) s (whole output: $out/$name.log):"
    grep -E '^\s+Failed |Error Message' -A 2 "$out/$name.log" | head -n 40 | sed 's/^/   /'
  fi
done

# The largest share of each bound used under each setting (1 = at the bound).
python3 - "$out" "${order[@]}" <<'EOF'
import sys, os, collections
out, names = sys.argv[1], sys.argv[2:]
worst = collections.defaultdict(dict)
for name in names:
    path = os.path.join(out, name + ".bounds.tsv")
    if not os.path.exists(path):
        continue
    for line in open(path, encoding="utf-8"):
        bound, measured, limit, what = line.rstrip("\n").split("\t", 3)
        share = float(measured) / float(limit) if float(limit) > 0 else 0.0
        if share >= worst[bound].get(name, (-1.0, ""))[0]:
            worst[bound][name] = (share, what)
print("\nlargest share of each bound (measured / bound) per setting:")
print(f"{'bound':28}" + "".join(f"{n:>13}" for n in names))
for bound in sorted(worst):
    print(f"{bound:28}" + "".join(f"{worst[bound][n][0]:13.3g}" if n in worst[bound] else f"{'-':>13}" for n in names))
EOF

if ((${#failed[@]})); then
  echo "eng/test-cpus.sh: failed under ${failed[*]}" >&2
  exit 1
fi
