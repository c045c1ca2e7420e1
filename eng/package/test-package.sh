#!/usr/bin/env bash
# The package as users get it (CI runs this from eng/test.sh): packs the library into a local feed, checks what the
# package carries, then, outside the repository (no Directory.Build.*, no project reference), builds and publishes
# eng/package/consumer — an application on Microsoft.ML 6.0.0 with warnings as errors — which trains in an ML.NET
# pipeline and saves the zip; a second process, the published application (framework-dependent and self-contained
# linux-x64), loads it and must score identically; `tokenidle generate --web-api` on that zip builds against the package
# and answers a request. The same again with Microsoft.ML.TorchSharp 0.24.0 referenced,
# the script sample as a file-based app on the package, and, where this system's libstdc++ lacks GLIBCXX_3.4.32, the
# one-line error an application built without the package's libstdc++ step gets.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
data=$repo/samples/data/fashion-mnist
version=1.0.0-local
work=$(mktemp -d "${TMPDIR:-/tmp}/tokenidle-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { echo "== package: $*" >&2; }

step "pack $version"
# As a release is packed: deterministic paths (ContinuousIntegrationBuild), Source Link from git.
dotnet pack src/Microsoft.ML.TokenIdle -c Release --nologo -v quiet -o "$work/feed" -p:Version=$version -p:ContinuousIntegrationBuild=true >/dev/null
package=$work/feed/Microsoft.ML.TokenIdle.$version.nupkg
# The listing is read whole before it is searched: `unzip -l | grep -q` under pipefail fails at random, since unzip
# writes line by line and dies of SIGPIPE when grep stops reading at its match.
carries() {
  local archive=$1 listing entry
  shift
  listing=$(unzip -l "$archive")
  for entry in "$@"; do
    grep -q " $entry\$" <<<"$listing" || { echo "package: $entry missing from $(basename "$archive")" >&2; exit 1; }
  done
}
carries "$package" README.md LICENSE buildTransitive/Microsoft.ML.TokenIdle.targets lib/net10.0/Microsoft.ML.TokenIdle.dll lib/net10.0/Microsoft.ML.TokenIdle.xml
carries "$work/feed/Microsoft.ML.TokenIdle.$version.snupkg" lib/net10.0/Microsoft.ML.TokenIdle.pdb

# A version rebuilt under the same number must not be served from the global packages folder.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.tokenidle/$version"
cat > "$work/NuGet.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
</configuration>
CONFIG

consumer() { # NAME [MSBUILD PROPERTIES...]: copy the app, build it, train, publish framework-dependent, score there
  local name=$1; shift
  local app=$work/$name
  cp -r eng/package/consumer "$app"
  step "$name: build ($*)"
  dotnet build "$app" -c Release --nologo -v quiet -o "$app/out" -p:TokenIdleVersion=$version "$@" >"$app/build.log" || { cat "$app/build.log"; exit 1; }
  step "$name: train"
  dotnet "$app/out/Consumer.dll" train "$data" "$app/model.zip" "$app/scores.json"
  step "$name: publish (framework-dependent) and score in a second process"
  dotnet publish "$app" -c Release --nologo -v quiet -o "$app/publish" -p:TokenIdleVersion=$version "$@" >"$app/publish.log" || { cat "$app/publish.log"; exit 1; }
  "$app/publish/Consumer" score "$app/model.zip" "$data" "$app/scores.json"
}
# Each application with libtorch is over 1 GB: one is removed when its checks are done, so the peak stays one or two.
done_with() { rm -rf "$work/$1"; }

consumer plain
step "plain: the generated web API on the package (warnings as errors), started, one image through POST /predict"
dotnet src/Microsoft.ML.TokenIdle.Cli/bin/Release/net10.0/tokenidle.dll generate --model "$work/plain/model.zip" --name Service --output "$work/web" --web-api >/dev/null
# The generator names the library's release version; the feed holds this check's own pack of it.
sed -i "s|Include=\"Microsoft.ML.TokenIdle\" Version=\"[^\"]*\"|Include=\"Microsoft.ML.TokenIdle\" Version=\"$version\"|" "$work/web/ServiceApp.WebApi/ServiceApp.WebApi.csproj"
grep -q "Version=\"$version\"" "$work/web/ServiceApp.WebApi/ServiceApp.WebApi.csproj"
dotnet build "$work/web/ServiceApp.WebApi" -c Release --nologo -v quiet -o "$work/web/out" >"$work/web/build.log" || { cat "$work/web/build.log"; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
(cd / && ASPNETCORE_URLS=http://127.0.0.1:$port exec dotnet "$work/web/out/ServiceApp.WebApi.dll" >"$work/web/server.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
images=("$data"/test/*/*.png)
answer=$(curl -s -H 'Content-Type: image/png' --data-binary "@${images[0]}" "http://127.0.0.1:$port/predict")
grep -q '"predicted":' <<<"$answer" || { echo "package: the web API answered '$answer'" >&2; cat "$work/web/server.log" >&2; exit 1; }
kill $server; wait $server 2>/dev/null || true
done_with web
step "plain: publish self-contained linux-x64 and score"
dotnet publish "$work/plain" -c Release --nologo -v quiet -r linux-x64 --self-contained -o "$work/plain/self-contained" -p:TokenIdleVersion=$version >"$work/plain/sc.log" || { cat "$work/plain/sc.log"; exit 1; }
"$work/plain/self-contained/Consumer" score "$work/plain/model.zip" "$data" "$work/plain/scores.json"
done_with plain

consumer with-mlnet-torchsharp -p:WithMLNetTorchSharp=true
done_with with-mlnet-torchsharp

step "file-based app (samples/Script/finetune.cs) on the package"
mkdir "$work/script"
sed "s|^#:project .*|#:package Microsoft.ML.TokenIdle@$version|" samples/Script/finetune.cs >"$work/script/finetune.cs"
grep -q "^#:package Microsoft.ML.TokenIdle@$version" "$work/script/finetune.cs"
(cd "$work/script" && dotnet run finetune.cs --artifacts-path "$work/script/build" -- "$data" "$work/script/model.zip")
done_with script

if ! grep -q 'GLIBCXX_3\.4\.32' "$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"; then
  step "without the libstdc++ step (LibTorchSharpGlibcxxCompat=never) on a system that needs it: one line"
  cp -r eng/package/consumer "$work/unpatched"
  dotnet build "$work/unpatched" -c Release --nologo -v quiet -o "$work/unpatched/out" -p:TokenIdleVersion=$version -p:LibTorchSharpGlibcxxCompat=never >/dev/null
  if dotnet "$work/unpatched/out/Consumer.dll" train "$data" "$work/unpatched/model.zip" "$work/unpatched/scores.json" >"$work/output.txt" 2>"$work/error.txt"; then
    echo "package: the unpatched application trained, so this system needs no libstdc++ step" >&2; exit 1
  fi
  cat "$work/output.txt" "$work/error.txt"
  # Nothing else printed (TorchSharp writes its load report to standard output when its own loader fails).
  [[ ! -s "$work/output.txt" && $(wc -l <"$work/error.txt") -eq 1 ]] && grep -q 'GLIBCXX_3.4.32' "$work/error.txt" && grep -q LibTorchSharpGlibcxxCompat "$work/error.txt" \
    || { echo "package: expected one line naming GLIBCXX_3.4.32 and the fix, and nothing else" >&2; exit 1; }
fi
step "passed"
