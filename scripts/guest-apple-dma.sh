#!/bin/bash
# Stage and cross-build a guest module that speaks the companion ABI for
# the guest kernel (GUEST_KERNEL=bookworm|trixie|trixie-16k|trixie-backports,
# as scripts/guest-fetch.sh): apple_dma, or the module folder given (the
# hostile test's tests/modules/adma_hostile).
#
#   scripts/guest-apple-dma.sh [<out-dir> [<module-src-dir>]]
#
# Copies the module folder and the companion ABI header (its one
# definition, include/vfio-apple/apple-dma-abi.h) into a staging folder,
# builds it with scripts/guest-modules.sh and prints the .ko path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -z "${GUEST_KHEADERS:-}" ]; then
	eval "$("$TOP/scripts/guest-fetch.sh")"
	export GUEST_KHEADERS GUEST_KVER
fi
src=${2:-$TOP/guest/linux/apple_dma}
[ -d "$src" ] || die "module source folder $src does not exist"
name=$(basename "$src")
stage=$TOP/build/guest-src/$name-${GUEST_KVER:-arm64}
mkdir -p "$stage/include/vfio-apple"
cp -a "$src/." "$stage/"
cp -a "$TOP/include/vfio-apple/apple-dma-abi.h" "$stage/include/vfio-apple/"
exec "$TOP/scripts/guest-modules.sh" "$stage" "${1:-$TOP/build/guest-modules/$name-${GUEST_KVER:-arm64}}"
