#!/usr/bin/env bash
# Installs the Debian packages the project needs: a sans-serif font for the
# figures' labels (fonts-dejavu-core; SkiaSharp reads /usr/share/fonts), Fashion-MNIST (its IDX files, for
# training tests and experiments) and, with --bench, CPU PyTorch with OpenBLAS for side-by-side benchmarks. Image decoding
# needs no package: ML.NET's ImageAnalytics uses SkiaSharp's self-contained native library; libtorch comes
# from NuGet (libtorch-cpu-linux-x64), made loadable here by the library's build targets (src/Microsoft.ML.TokenIdle/buildTransitive).
# Does nothing when they are present.
set -euo pipefail
packages=()
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || packages+=(fonts-dejavu-core)
[[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]] || packages+=(dataset-fashion-mnist)
if [[ "${1:-}" == "--bench" ]]; then
  /usr/bin/python3 -c 'import torch' 2>/dev/null || packages+=(python3-torch)
  # Debian's PyTorch does its matrix products through the system BLAS (libblas.so.3); without OpenBLAS that is the
  # reference BLAS, 23x slower on DeiT-S (measured on the Zen 5 EPYC, docs/benchmarks.md), which would misstate PyTorch in the benchmarks.
  [[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]] || packages+=(libopenblas0-pthread)
fi
if ((${#packages[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing ${packages[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi
