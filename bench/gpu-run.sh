#!/bin/bash
# device-side: the bench harness (bundled) on the NVIDIA GPU through Dawn + NVIDIA's Vulkan driver
set -o pipefail
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
cd .gpucheck
unxz() { python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$1" "$2"; }
NODE=$(command -v node || true)
if [ -z "$NODE" ]; then unxz node.xz /tmp/node && chmod +x /tmp/node && NODE=/tmp/node; fi
unxz node_modules/webgpu/dist/linux-x64/dawn.node.xz node_modules/webgpu/dist/linux-x64/dawn.node
ICD=$(ls /usr/local/nvidia/share/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json 2>/dev/null | head -1)
export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD
nvidia-smi -L
timeout 260 $NODE bench.mjs --suite webgpu --backend webgpu --sizes 64M,128M --out $OUT/bench-h100-webgpu.json 2>&1 | tee $OUT/bench-h100-webgpu.txt

