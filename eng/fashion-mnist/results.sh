# Sourced by the Fashion-MNIST experiment scripts, with $out set: installs what they need, builds the CLI (unless
# TOKENIDLE_CLI names one), defines `tokenidle`, and `has KEY` over $out/results.jsonl (rerunning skips what is there).
bash eng/install-deps.sh
if [[ -z "${TOKENIDLE_CLI:-}" ]]; then
  dotnet build src/Microsoft.ML.TokenIdle.Cli -c Release --nologo -v q >&2
  TOKENIDLE_CLI=src/Microsoft.ML.TokenIdle.Cli/bin/Release/net10.0/tokenidle.dll
fi
tokenidle() { dotnet "$TOKENIDLE_CLI" "$@"; }
mkdir -p "$out"
results="$out/results.jsonl"
touch "$results"

# has KEY: whether results.jsonl already has the step KEY.
has() { grep -q "\"key\": \"$1\"" "$results"; }
