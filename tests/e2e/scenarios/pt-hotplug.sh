# Hot-unplug and re-plug of the passthrough device through QMP while the
# guest is idle (the host acts at the SYNC lines); I/O after the re-plug.
nvme_io before-unplug 16
echo "VFIOAPPLE-SYNC unplug"
i=0
while [ -e "/sys/bus/pci/devices/$PT_BDF" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
require device-removed test ! -e "/sys/bus/pci/devices/$PT_BDF"
echo "VFIOAPPLE-SYNC replug"
require device-back wait_for "/sys/bus/pci/devices/$PT_BDF" 60
require block-device-after-replug wait_for /dev/nvme0n1 30
check_eq driver-bound-after-replug nvme "$(basename "$(readlink "/sys/bus/pci/devices/$PT_BDF/driver" 2>/dev/null)")"
nvme_io after-replug 16
