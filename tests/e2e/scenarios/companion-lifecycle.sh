# Companion mode through a device's life, idle between steps, I/O verified
# after each: unbind and rebind nvme, a function reset, apple_dma removed
# and loaded again, the pair hot-unplugged and plugged back (the host acts
# at the SYNC lines).  After each release the companion must hold nothing
# but the window: "held" is what the host maps beyond it.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
adma_bdf() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1b36:0x0015" ] && basename "$d"
	done | head -n1
}
adma_stat() { awk -v k="$1" '$1 == k { print $2 }' "/sys/kernel/debug/apple_dma/$(adma_bdf)/stats"; }
# Mappings beyond the window (the window is one mapping).
held() { echo $(( $(adma_stat host_used_mappings) - 1 )); }
drv() { basename "$(readlink "/sys/bus/pci/devices/$PT_BDF/driver" 2>/dev/null)"; }
KO=$(find /lib/modules -name apple_dma.ko | head -n1)

nvme_io start 16
check companion-held-chunks-while-bound test "$(held)" -gt 0

echo "$PT_BDF" >/sys/bus/pci/drivers/nvme/unbind
check_eq unbind-left-no-mappings 0 "$(held)"
echo "$PT_BDF" >/sys/bus/pci/drivers/nvme/bind
require rebind-nvme-back wait_for /sys/class/nvme/nvme0 20
nvme_io after-rebind 16

echo 1 >"/sys/bus/pci/devices/$PT_BDF/reset"
check_eq reset-kept-driver nvme "$(drv)"
nvme_io after-reset 16

rmmod apple_dma
check_eq rmmod-unbound-nvme "" "$(drv)"
check rmmod-ok test ! -d /sys/module/apple_dma
insmod "$KO"
require reload-nvme-back wait_for /sys/class/nvme/nvme0 20
check_eq reload-rebound-nvme nvme "$(drv)"
nvme_io after-reload 16

ADMA=$(adma_bdf)
echo "VFIOAPPLE-SYNC unplug"
i=0
while { [ -e "/sys/bus/pci/devices/$PT_BDF" ] || [ -e "/sys/bus/pci/devices/$ADMA" ]; } && [ $i -lt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
require pair-removed test ! -e "/sys/bus/pci/devices/$PT_BDF"
echo "VFIOAPPLE-SYNC replug"
require pair-back wait_for "/sys/bus/pci/devices/$PT_BDF" 60
require nvme-after-replug wait_for /sys/class/nvme/nvme0 30
check_eq replug-driver nvme "$(drv)"
check replug-through-companion sh -c "dmesg | grep 'apple_dma: DMA through the companion' | tail -n1 | grep -q ."
nvme_io after-replug 16
cat "/sys/kernel/debug/apple_dma/$(adma_bdf)/stats"
check_eq lifecycle-no-map-errors 0 "$(adma_stat errors)"
