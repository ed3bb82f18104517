#!/usr/bin/env bash
# Installs what the docs' browser test needs from Debian: chromium (headless, with SwiftShader for
# WebGPU and Vulkan). playwright-core drives this browser; it never downloads one. Idempotent; needs
# root or sudo. Run from .ci/run before `pnpm test`.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
  echo "ci-deps: $(chromium --version 2>/dev/null | head -n1) already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-common fonts-liberation fonts-dejavu-core >/dev/null
echo "ci-deps: installed $(chromium --version 2>/dev/null | head -n1)"
