#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds (warnings are errors) and runs xunit.
# The fixtures are read from ../shared/fixtures (or TOKENIDLE_FIXTURES).
set -euo pipefail
cd "$(dirname "$0")/.."
bash eng/install-deps.sh
dotnet test TokenIdle.sln -c Release --nologo
