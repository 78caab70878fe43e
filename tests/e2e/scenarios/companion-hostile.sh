# A hostile guest on the companion: adma_hostile (tests/modules) takes
# apple-dma-pci in apple_dma's place and sends rings in MMIO, beyond RAM,
# unaligned, malformed entries and a runaway tail (each outcome printed by
# the module and checked here against what the ABI says it must be).  Then
# the guest recovers without a restart: the module goes, apple_dma comes,
# and the stock nvme driver does verified I/O.  The host samples the
# simulator and QMP at the SYNC lines.
PT_BDF=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x7a7a:0x0e01" ] && basename "$d"
done | head -n1)
require hostile-nvme-function test -n "$PT_BDF"
drv() { basename "$(readlink "/sys/bus/pci/devices/$PT_BDF/driver" 2>/dev/null)"; }
# nvme bound at boot, while QEMU held bus mastering (the companion was not
# enabled): its probe waits for an admin command that cannot complete.
# Unbind it, so that enabling the companion below cannot let it DMA.
[ "$(drv)" = nvme ] && echo "$PT_BDF" >/sys/bus/pci/drivers/nvme/unbind
require hostile-nvme-unbound test -z "$(drv)"

echo "VFIOAPPLE-SYNC hostile-before"
require hostile-module-loaded insmod /root/adma_hostile.ko
require hostile-module-done sh -c 'dmesg | grep -q "adma_hostile: done"'
dmesg | grep 'adma_hostile: case ' | sed 's/.*adma_hostile: case //' >/tmp/hostile-cases
# On fd 3: a check must not eat the list (a failing one may read stdin).
n=0
while read -r name _ got _ want <&3; do
	check_eq "hostile-$name" "$want" "$got"
	n=$((n + 1))
done 3</tmp/hostile-cases
note "hostile_cases=$n"
echo "VFIOAPPLE-SYNC hostile-after"
require hostile-module-removed rmmod adma_hostile
echo "VFIOAPPLE-SYNC hostile-removed"

# Recovery in the same VM: the real module, the stock driver, verified I/O.
require recover-apple-dma-loaded insmod /root/apple_dma.ko
[ -n "$(drv)" ] || echo "$PT_BDF" >/sys/bus/pci/drivers/nvme/bind
require recover-nvme-bound wait_for /sys/class/nvme/nvme0 30
check_eq recover-driver nvme "$(drv)"
check recover-through-companion sh -c 'dmesg | grep -q "apple_dma: DMA through the companion"'
nvme_io recover 16
