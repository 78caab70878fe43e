# apple_dma loaded after nvme has bound to the passthrough NVMe: QEMU held
# the device's bus mastering, so nvme's probe did no DMA (it times out or
# waits); the module then re-binds nvme with its own DMA ops.
PT_BDF=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x7a7a:0x0e01" ] && basename "$d"
done | head -n1)
require late-nvme-function test -n "$PT_BDF"
sleep 2
echo "VFIOAPPLE-SYNC before-module"
sleep 1
insmod /root/apple_dma.ko
require late-nvme-bound wait_for /sys/class/nvme/nvme0 60
check late-ops-installed sh -c 'dmesg | grep -q "apple_dma: DMA through the companion"'
nvme_io late 16
