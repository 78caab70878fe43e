#!/bin/bash
# Stage and cross-build the apple_dma guest module for the guest kernel
# (GUEST_KERNEL=bookworm|trixie|trixie-16k|trixie-backports, as
# scripts/guest-fetch.sh).
#
#   scripts/guest-apple-dma.sh [<out-dir>]
#
# Copies guest/linux/apple_dma and the companion ABI header (its one
# definition, include/vfio-apple/apple-dma-abi.h) into a staging folder,
# builds it with scripts/guest-modules.sh and prints the .ko path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -z "${GUEST_KHEADERS:-}" ]; then
	eval "$("$TOP/scripts/guest-fetch.sh")"
	export GUEST_KHEADERS GUEST_KVER
fi
stage=$TOP/build/guest-src/apple_dma-${GUEST_KVER:-arm64}
mkdir -p "$stage/include/vfio-apple"
cp -a "$TOP/guest/linux/apple_dma/." "$stage/"
cp -a "$TOP/include/vfio-apple/apple-dma-abi.h" "$stage/include/vfio-apple/"
exec "$TOP/scripts/guest-modules.sh" "$stage" "${1:-$TOP/build/guest-modules/apple_dma-${GUEST_KVER:-arm64}}"
