#!/usr/bin/env bash
# The parsers' fuzz tests at a larger size: N seeded mutants per parser (safetensors, model zip, PNG and JPEG
# decoding, config JSON), outcome counts by exception type, slowest mutant and largest managed allocation.
#   bash eng/fuzz.sh [N=100000] [OUT=artifacts/fuzz]
# In this survey mode a bound exceeded, a hang or an undocumented exception is counted (and printed) instead of
# failing the test, so the table shows every kind of outcome; CI runs the same tests in strict mode
# with 2,000 mutants each.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
out="${2:-artifacts/fuzz}"
rm -rf "$out"
dotnet build test/Microsoft.ML.TokenIdle.Tests -c Release --nologo -v q
TOKENIDLE_FUZZ_SURVEY=1 TOKENIDLE_FUZZ_MUTANTS="$n" TOKENIDLE_FUZZ_REPORT="$out" dotnet test test/Microsoft.ML.TokenIdle.Tests -c Release --no-build --nologo --filter "FullyQualifiedName~Mutants"
python3 eng/fuzz_summary.py "$out"
