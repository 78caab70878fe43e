#!/bin/bash
# Build the apple_dma guest module's DKMS package, a .deb a user installs
# in a stock Debian or Ubuntu guest (apt install ./apple-dma-dkms_*.deb;
# it needs dkms and the guest kernel's headers, which apt pulls in).
#
#   scripts/guest-apple-dma-deb.sh [<out-dir>]     (default build/)
#
# Prints the .deb's path.  Package layout:
#   /usr/src/apple-dma-VERSION/   the module source, the companion ABI
#                                 header, dkms.conf
#   /usr/lib/modules-load.d/apple-dma.conf   loads it at boot
#   /etc/modprobe.d/apple-dma.conf           softdeps: it before nvme
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$TOP/build}
ver=$(cat "$TOP/VERSION")
pkg=apple-dma-dkms
root=$TOP/build/deb/$pkg
rm -rf "$root"
src=$root/usr/src/apple-dma-$ver
mkdir -p "$src/include/vfio-apple" "$root/usr/lib/modules-load.d" "$root/etc/modprobe.d" \
	"$root/DEBIAN" "$root/usr/share/doc/$pkg"
for f in Kbuild apple_dma.h main.c ring.c ops.c; do
	cp "$TOP/guest/linux/apple_dma/$f" "$src/"
done
cp "$TOP/include/vfio-apple/apple-dma-abi.h" "$src/include/vfio-apple/"
sed "s/@VERSION@/$ver/" "$TOP/guest/linux/apple_dma/dkms.conf" >"$src/dkms.conf"
cp "$TOP/guest/linux/apple_dma/apple-dma.modules-load.conf" "$root/usr/lib/modules-load.d/apple-dma.conf"
cp "$TOP/guest/linux/apple_dma/apple-dma.modprobe.conf" "$root/etc/modprobe.d/apple-dma.conf"
cp "$TOP/docs/companion.md" "$root/usr/share/doc/$pkg/README.md"
cat >"$root/DEBIAN/control" <<EOC
Package: $pkg
Version: $ver
Architecture: all
Maintainer: vfio-apple developers <vfio-apple@users.noreply.github.com>
Depends: dkms (>= 2.1.0.0)
Section: kernel
Priority: optional
Description: vfio-apple companion DMA driver (apple_dma), DKMS source
 The guest side of vfio-apple's apple-dma-pci companion: it becomes the
 DMA API of PCI devices passed through from an Apple Silicon Mac, so that
 their drivers get real host IOVAs in guests whose RAM exceeds the host
 IOMMU's budget.  Built for each installed kernel by DKMS.
EOC
echo "/etc/modprobe.d/apple-dma.conf" >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/postinst" <<EOS
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
	dkms add -m apple-dma -v $ver 2>/dev/null || true
	# For the running kernel now; AUTOINSTALL=yes in dkms.conf builds it
	# for every kernel installed later.  A failure (no headers) is DKMS's
	# message, and must not fail the package.
	dkms install -m apple-dma -v $ver || true
fi
EOS
cat >"$root/DEBIAN/prerm" <<EOS
#!/bin/sh
set -e
if [ "\$1" = remove ] || [ "\$1" = upgrade ]; then
	dkms remove -m apple-dma -v $ver --all 2>/dev/null || true
fi
EOS
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm"
mkdir -p "$out"
deb=$out/${pkg}_${ver}_all.deb
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null || die "dpkg-deb --build failed"
ok "built $deb"
printf '%s\n' "$deb"
