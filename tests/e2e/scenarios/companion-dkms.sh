# apple_dma installed as a user would: apple-dma-dkms's .deb installed
# with dpkg into a stock Debian bookworm root (dkms, gcc and the running
# kernel's headers, nothing of ours), DKMS building the module in the
# guest; then the module loaded as systemd-modules-load would (the
# package's modules-load.d entry, modprobe from that root) and the stock
# nvme driver doing verified I/O through the companion.
# inroot: a command of the root's own (env execs it there; busybox's
# chroot would run its own applet of the same name, dpkg or sh, instead).
# A file, not a function, so that sh -c finds it too.
cat >/bin/inroot <<'EOS'
#!/bin/sh
exec chroot /mnt /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
EOS
chmod +x /bin/inroot
PT_BDF=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x7a7a:0x0e01" ] && basename "$d"
done | head -n1)
require dkms-nvme-function test -n "$PT_BDF"
require dkms-disk wait_for /dev/vda 20
mkdir -p /mnt
require dkms-root-mounted mount -t ext4 /dev/vda /mnt
# What the root's programs expect (dkms: /proc mounted, /dev/fd for bash's
# process substitution).
mount -t proc proc /mnt/proc
mount -t sysfs sysfs /mnt/sys
mount -o bind /dev /mnt/dev
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
cp /root/apple-dma-dkms.deb /mnt/root/
t0=$(uptime_ms)
require dkms-deb-installed sh -c "inroot dpkg -i /root/apple-dma-dkms.deb >/tmp/dpkg.log 2>&1 || { tail -20 /tmp/dpkg.log; exit 1; }"
note dkms_install_ms=$(($(uptime_ms) - t0))
tail -5 /tmp/dpkg.log
check dkms-status-installed sh -c "inroot dkms status | grep -q \"apple-dma/.*, $(uname -r), .*: installed\""
KO=$(inroot modinfo -k "$(uname -r)" -n apple_dma 2>/dev/null)
check dkms-module-in-updates sh -c "echo '$KO' | grep -q '^/lib/modules/$(uname -r)/updates/dkms/apple_dma.ko'"
check_eq dkms-vermagic "$(uname -r)" "$(inroot modinfo -k "$(uname -r)" -F vermagic apple_dma | cut -d' ' -f1)"
check dkms-modules-load-entry grep -qx apple_dma /mnt/usr/lib/modules-load.d/apple-dma.conf
check dkms-nvme-softdep grep -q '^softdep nvme pre: apple_dma' /mnt/etc/modprobe.d/apple-dma.conf
# What systemd-modules-load does at boot: modprobe each name listed.
require dkms-modules-loaded inroot sh -c \
	"sed 's/#.*//' /usr/lib/modules-load.d/apple-dma.conf | xargs -r -n1 modprobe"
check dkms-module-live test -d /sys/module/apple_dma
require dkms-nvme-bound wait_for /sys/class/nvme/nvme0 60
check dkms-through-companion sh -c 'dmesg | grep -q "apple_dma: DMA through the companion"'
nvme_io dkms 16
