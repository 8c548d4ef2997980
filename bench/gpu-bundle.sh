#!/usr/bin/env bash
# Prepares .gpucheck/ for running the harness on a GPU machine that has no Node (the lent NVIDIA
# machines): the harness bundled into one file, Node and Dawn's native module compressed, and the
# Vulkan loader .deb in .gl/. Then, on that machine: `bash bench/gpu-run.sh` with .gpucheck and .gl
# carried (see bench/README.md). Everything here comes from this checkout and Debian's archive.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpucheck/node_modules/webgpu/dist/linux-x64 .gl
npx esbuild bench/run.ts --bundle --platform=node --format=esm --outfile=.gpucheck/bench.mjs \
  --external:webgpu '--external:@tensorflow/*' --external:assemblyscript '--external:assemblyscript/*' --external:binaryen \
  --log-level=warning --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpucheck/node_modules/webgpu/
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpucheck/node_modules/webgpu/dist/linux-x64/dawn.node.xz
xz -T2 -6 -c "$(command -v node)" > .gpucheck/node.xz
(cd .gl && apt-get download libvulkan1 >/dev/null)
cp bench/gpu-run.sh .gpucheck/run-bench.sh
du -sh .gpucheck .gl
