# The passthrough NVMe: the simulator's controller (7a7a:0e01) bound to the
# stock nvme driver through vfio-apple-pci.  Sets PT_BDF for later scripts.
# PT_WAIT (default 20): seconds to wait for the controller.
require pt-nvme-controller wait_for /sys/class/nvme/nvme0/device "${PT_WAIT:-20}"
PT_SYSFS=$(readlink -f /sys/class/nvme/nvme0/device)
PT_BDF=$(basename "$PT_SYSFS")
check_eq pt-vendor-device "0x7a7a:0x0e01" "$(cat "$PT_SYSFS/vendor"):$(cat "$PT_SYSFS/device")"
check_eq pt-driver nvme "$(basename "$(readlink "$PT_SYSFS/driver")")"
note "pt_bdf=$PT_BDF page_size=$(page_size)"

# MSI-X vectors of nvme0 that have fired, from /proc/interrupts.
msix_vectors_used() {
	awk '/nvme0q/ { n = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i; if (n > 0) used++ }
	     END { print used + 0 }' /proc/interrupts
}
