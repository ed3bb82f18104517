#!/usr/bin/env bash
# Installs a software Vulkan driver so Dawn (the `webgpu` npm package) finds a WebGPU adapter on a
# Debian machine without a GPU, checks that it computes, and prints the environment to export.
#
#   bash packages/tensor/scripts/setup-webgpu-ci.sh               # Mesa lavapipe (default)
#   bash packages/tensor/scripts/setup-webgpu-ci.sh swiftshader   # SwiftShader from Debian's chromium
#   eval "$(bash packages/tensor/scripts/setup-webgpu-ci.sh 2>/dev/null | grep '^export ')"
#
# Dawn refuses bookworm's Mesa 22.3 lavapipe, so on bookworm the driver comes from bookworm-backports
# (Mesa 25); Debian 13 and later ship a new enough one in main. Needs root (or sudo) for apt-get, and runs
# none when the driver is already installed.
#
# `pnpm test` does not need this script: it runs scripts/setup-system.mjs, which installs lavapipe where
# the Vulkan loader finds it without VK_ICD_FILENAMES (turbo would not pass that variable to the tests).
# The export matters for running a package's vitest directly with another driver (SwiftShader).
set -euo pipefail

driver="${1:-lavapipe}"
here="$(cd "$(dirname "$0")/.." && pwd)"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"

case "$driver" in
  lavapipe)
    mesa="$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)"
    if [ -n "$mesa" ] && dpkg --compare-versions "$mesa" ge 23; then
      echo "setup-webgpu-ci: mesa-vulkan-drivers $mesa already installed" >&2
    elif [ "$codename" = "bookworm" ]; then
      if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "adding bookworm-backports (Mesa 25 for a lavapipe Dawn accepts)" >&2
        printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
          $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
      fi
      $SUDO apt-get update -qq >&2
      $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >&2
    else
      $SUDO apt-get update -qq >&2
      $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >&2
    fi
    icd=""
    for f in /usr/share/vulkan/icd.d/lvp_icd.json /usr/share/vulkan/icd.d/lvp_icd.x86_64.json /usr/share/vulkan/icd.d/lvp_icd.aarch64.json; do
      if [ -f "$f" ]; then icd="$f"; break; fi
    done
    ;;
  swiftshader)
    icd="/usr/lib/chromium/vk_swiftshader_icd.json"
    if ! { [ -f "$icd" ] && dpkg-query -W libvulkan1 >/dev/null 2>&1; }; then
      $SUDO apt-get update -qq >&2
      $SUDO apt-get install -y -qq chromium libvulkan1 >&2
    fi
    [ -f "$icd" ] || icd=""
    ;;
  *)
    echo "usage: $0 [lavapipe|swiftshader]" >&2
    exit 2
    ;;
esac

if [ -z "$icd" ]; then
  echo "setup-webgpu-ci: no Vulkan ICD file found for $driver" >&2
  exit 1
fi

# Check that Dawn gets a real (not null-backend) adapter that computes, when the package is installed.
if [ -d "$here/node_modules/webgpu" ]; then
  (cd "$here" && VK_ICD_FILENAMES="$icd" node --input-type=module -e "
    import { create } from 'webgpu';
    const gpu = create([]);
    const a = await gpu.requestAdapter();
    if (!a) { console.error('setup-webgpu-ci: Dawn found no adapter'); process.exit(1); }
    const i = a.info;
    if (i.device.includes('null')) { console.error('setup-webgpu-ci: only the null backend'); process.exit(1); }
    console.error('setup-webgpu-ci: adapter', i.vendor, '/', i.architecture, '/', i.description);
    const d = await a.requestDevice();
    d.destroy();
    process.exit(0);
  " 2>&1 | grep -v '^Warning' >&2) || {
    echo "setup-webgpu-ci: Dawn could not use $icd" >&2
    exit 1
  }
else
  echo "setup-webgpu-ci: webgpu npm package not installed yet (pnpm install); skipped the adapter check" >&2
fi

echo "export VK_ICD_FILENAMES=$icd"
