#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds (warnings are errors), runs xunit and the
# experiment smoke run.
# The fixtures are read from ../shared/fixtures (or TOKENIDLE_FIXTURES).
set -euo pipefail
cd "$(dirname "$0")/.."
bash eng/install-deps.sh
dotnet test TokenIdle.sln -c Release --nologo
# The Fashion-MNIST experiment end to end at smoke size (the full run is eng/fashion-mnist/run-experiment.sh).
rm -rf artifacts/fashion-mnist-smoke-ci
bash eng/fashion-mnist/run-experiment.sh --smoke --out artifacts/fashion-mnist-smoke-ci
# The README's main job: the QuickStart sample on the embedded model.
dotnet run --project samples/QuickStart -c Release
# The script user's path: the .NET 10 file-based app (finetune, evaluate, save).
dotnet run samples/Script/finetune.cs -- samples/data/fashion-mnist artifacts/script-model.zip
