#!/usr/bin/env bash
# Install everything the build and the tests need on a Debian 12 machine.
#
# Idempotent: a second run checks what is there and changes nothing.  The
# machine's own packages are never upgraded: packages from other suites
# (bookworm-backports' meson, sid's qemu source) are fetched through a private
# apt configuration under the cache directory, never through the system's
# sources.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Host packages from the machine's own suite (bookworm).
HOST_PKGS=(
	build-essential pkg-config git patch python3 python3-venv ninja-build
	flex bison libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev
	dpkg-dev cpio gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	libcmocka-dev cmake clang libclang-rt-14-dev
	kmod xz-utils zstd rsync
	# a stock Debian root for the guest's DKMS install (tests/e2e/test_pt_companion_dkms.py)
	debootstrap e2fsprogs
	pci.ids
	# edk2 for the UEFI+ACPI guest boots, iasl to read the tables they get
	qemu-efi-aarch64 acpica-tools
)
MESON_MIN=1.5

need_root() {
	[ "$(id -u)" = 0 ] && return
	die "bootstrap must run as root to install packages (try: sudo $0)"
}

missing_host_pkgs() {
	local p
	for p in "${HOST_PKGS[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
	done
}

meson_ok() {
	local v
	v=$(/usr/bin/python3 -c 'import mesonbuild.coredata as c; print(c.version)' 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge "$MESON_MIN"
}

system_apt_updated=0
system_apt_update() {
	[ $system_apt_updated = 1 ] && return
	step "apt-get update (system sources)"
	apt-get update -qq
	system_apt_updated=1
}

main() {
	mkdir -p "$CACHE"
	local missing
	missing=$(missing_host_pkgs)
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		need_root
		step "adding the arm64 foreign architecture"
		dpkg --add-architecture arm64
		system_apt_updated=0
		missing="$missing x"
	fi
	if [ -n "$missing" ]; then
		need_root
		system_apt_update
		missing=$(missing_host_pkgs)
		if [ -n "$missing" ]; then
			step "installing host packages:" $missing
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
		fi
	fi

	if ! meson_ok; then
		need_root
		private_apt_update
		step "installing meson from bookworm-backports (private apt configuration)"
		local dir="$CACHE/debs"
		mkdir -p "$dir"
		rm -f "$dir"/meson_*.deb
		(cd "$dir" && papt_get download meson/bookworm-backports)
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$dir"/meson_*.deb
		meson_ok || die "meson >= $MESON_MIN still not usable by /usr/bin/python3"
	fi
	ok "dependencies present (cache: $CACHE)"
}

main "$@"
