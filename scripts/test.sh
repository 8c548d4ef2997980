#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh Debian/Ubuntu machine, then
# runs the whole suite. WebGPU tests run on a real WebGPU implementation (Dawn in Node, headless
# Chromium, Deno) over SwiftShader's software Vulkan, which Debian's chromium package ships.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/libvulkan.so.1 ] || need_apt+=(libvulkan1)
# The PyTorch interop tests (test/checkpoint-interop, test/checkpoint-torch) run the real torch.
/usr/bin/python3 -c 'import torch' 2>/dev/null || need_apt+=(python3-torch)
[ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)   # the federated tests' real MQTT broker
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing system packages for the WebGPU/browser, PyTorch interop and MQTT tests: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# Vitest's own summary plus one plain closing line ("N passed, N failed") that any CI can read.
results=$(mktemp)
status=0
npm test -- --reporter=default --reporter=json --outputFile.json="$results" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" || echo "0 passed, 1 failed"
rm -f "$results"
exit $status
