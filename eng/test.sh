#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds (warnings are errors), runs xunit under four CPU settings, every
# command block of the README, the generated web API under load, the package in an application outside the repository and
# the published CLI.
# The fixtures are read from ../shared/fixtures (or TOKENIDLE_FIXTURES).
set -euo pipefail
cd "$(dirname "$0")/.."
# Disk first, in one line, rather than MSBuild's copy retries minutes later: a clean clone grows by ~7 GB (build outputs
# with libtorch), and $TMPDIR holds the README's fresh copy with its build (~7 GB, removed when it passes) and then the
# package and publish checks (~4 GB at their peak) (README, Tests).
tmp=${TMPDIR:-/tmp}
repo_gib=$([[ -d test/Microsoft.ML.TokenIdle.Tests/bin ]] && echo 1 || echo 7) tmp_gib=11
require_free() { # PATH GIB
  local free; free=$(df -P -BG "$1" | awk 'NR == 2 {print $4 + 0}')
  (( free >= $2 )) || { echo "eng/test.sh: needs $2 GiB free on the file system of $1; $free GiB are free" >&2; exit 1; }
}
if [[ $(df -P "$PWD" | awk 'NR == 2 {print $1}') == $(df -P "$tmp" | awk 'NR == 2 {print $1}') ]]; then
  require_free "$PWD" $((repo_gib + tmp_gib))
else
  require_free "$PWD" "$repo_gib"; require_free "$tmp" "$tmp_gib"
fi
bash eng/install-deps.sh
dotnet build TokenIdle.sln -c Release --nologo
# The whole test project under this CPU's kernels and under libtorch's kernels lowered to an AVX2 CPU's, an AVX-512 CPU's
# without BF16 and the x86-64 floor (SSE4.1), each numeric bound's largest use printed (docs/testing.md).
bash eng/test-cpus.sh --no-build
# Every command block of README.md and of the docs pages it links, as written, in a fresh copy of the repository: the
# QuickStart, the install from a local feed, the CLI's verbs, training, the samples, the ONNX path, the smoke-size
# experiment (eng/readme-examples.py; blocks marked illustrative are listed, not run).
python3 eng/readme-examples.py
# The script sample given a folder of another layout: one line, no stack trace.
if dotnet run samples/Script/finetune.cs --artifacts-path artifacts/script-build -- samples/data/shapes-jpeg >/dev/null 2>artifacts/script-layout.txt; then
  echo "eng/test.sh: the script sample accepted a folder without train/ and test/" >&2; exit 1
fi
[[ $(wc -l <artifacts/script-layout.txt) -eq 1 ]] && grep -q "has no 'train' folder" artifacts/script-layout.txt \
  || { echo "eng/test.sh: expected one line naming the missing folder, got:" >&2; cat artifacts/script-layout.txt >&2; exit 1; }
# The generated web API built and run on loopback: concurrent clients get predict's labels in batches; bad bodies,
# overload, a replaced zip and 10,000 requests (docs/serving.md).
bash eng/serving/test-web-api.sh
# The package as users get it: packed to a local feed, consumed outside the repository on Microsoft.ML 6.0.0 (build,
# publish, a second process scores the zip identically; beside Microsoft.ML.TorchSharp; a file-based app).
bash eng/package/test-package.sh
# The CLI published framework-dependent, self-contained and single-file runs macs, bench and infer.
bash eng/package/test-cli-publish.sh
