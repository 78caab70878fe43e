# The simulator's virtio-net loopback NIC (1af4:1041) through vfio-apple-pci,
# driven by the guest's stock virtio_pci and virtio_net: /bin/vnet-loop
# sends VNET_FRAMES frames of 60..1514 bytes in bursts and checks that each
# comes back intact and in order.  VNET_MAC: the MAC the device reports.
# Notes the tool's counts and the interface's own counters for the host.

# The interface whose PCI function is the virtio-net one.
vnet_iface() {
	for n in /sys/class/net/*; do
		[ "$(cat "$n/device/../device" 2>/dev/null)" = 0x1041 ] && { echo "${n##*/}"; return 0; }
	done
	return 1
}
wait_vnet() {
	i=0
	while ! vnet_iface >/dev/null && [ $i -lt $(($1 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
	vnet_iface >/dev/null || { echo "no interface on a 1af4:1041 function within $1 s"; return 1; }
}
require virtio-net-interface wait_vnet 30
IF=$(vnet_iface)
VNET_PCI=$(readlink -f "/sys/class/net/$IF/device/..")
check_eq virtio-net-pci-id "0x1af4:0x1041" "$(cat "$VNET_PCI/vendor"):$(cat "$VNET_PCI/device")"
check_eq virtio-net-pci-driver virtio-pci "$(basename "$(readlink "$VNET_PCI/driver")")"
check_eq virtio-net-driver virtio_net "$(basename "$(readlink "/sys/class/net/$IF/device/driver")")"
check_eq virtio-net-mac "$VNET_MAC" "$(cat "/sys/class/net/$IF/address")"
# Bit 33, VIRTIO_F_ACCESS_PLATFORM: the driver uses the DMA API (IOVAs, not
# guest-physical addresses); bit 32, VERSION_1; bit 5, MAC.
feat=$(cat "/sys/class/net/$IF/device/features")
check_eq virtio-net-features-negotiated "1 1 1" \
	"$(echo "$feat" | cut -c6) $(echo "$feat" | cut -c33) $(echo "$feat" | cut -c34)"
note "vnet_if=$IF vnet_pci=$(basename "$VNET_PCI")"

# vnet_loop TAG FRAMES SEED: the tool on $IF; checks and notes get TAG
# ("" for the first run): TAGloop_sent=..., TAGguest_tx_packets=... (the
# interface's counters start from 0 with each probe).
vnet_loop() {
	sfx=${1:+-$1}; p=${1:+${1}_}
	# No IPv6 autoconfiguration chatter: every frame on the wire is the tool's.
	echo 1 >"/proc/sys/net/ipv6/conf/$IF/disable_ipv6" 2>/dev/null
	t0=$(uptime_ms)
	/bin/vnet-loop "$IF" "$2" "$3" >/tmp/vnet.out 2>&1
	rc=$?
	t1=$(uptime_ms)
	cat /tmp/vnet.out
	sum=$(grep '^vnet-loop: sent=' /tmp/vnet.out)
	check_eq "virtio-net-loopback-all-intact$sfx" 0 "$rc"
	# The summary's counts for the host, as loop_sent=... loop_intact=...
	note "$(echo "${sum#vnet-loop: }" | sed "s/\([a-z]*\)=/${p}loop_\1=/g")"
	check_eq "virtio-net-carrier$sfx" 1 "$(cat "/sys/class/net/$IF/carrier")"
	S=/sys/class/net/$IF/statistics
	note "${p}vnet_ms=$((t1 - t0)) ${p}guest_tx_packets=$(cat $S/tx_packets)" \
		"${p}guest_rx_packets=$(cat $S/rx_packets) ${p}guest_tx_bytes=$(cat $S/tx_bytes)" \
		"${p}guest_rx_bytes=$(cat $S/rx_bytes) ${p}guest_rx_errors=$(cat $S/rx_errors)" \
		"${p}guest_tx_errors=$(cat $S/tx_errors) ${p}guest_rx_dropped=$(cat $S/rx_dropped)" \
		"${p}guest_tx_dropped=$(cat $S/tx_dropped)"
}
vnet_loop "" "$VNET_FRAMES" "${VNET_SEED:-1}"

# Per-queue MSI-X vectors (virtio0-input.0, virtio0-output.0) that fired:
# the per-CPU counts are the fields after the IRQ number, one per CPU column.
irqs=$(awk 'NR == 1 { ncpu = NF; next }
	/virtio[0-9]+-(input|output)/ { n = 0; for (i = 2; i <= ncpu + 1; i++) n += $i; printf "%s=%d ", $NF, n }' /proc/interrupts)
note "vnet_irqs=$(echo "$irqs" | tr ' ' ',')"
check virtio-net-rx-and-tx-vectors-fired sh -c "echo '$irqs' | grep -q 'input.0=[1-9]' && echo '$irqs' | grep -q 'output.0=[1-9]'"

# Unbind and rebind virtio_net: the driver resets the device (status 0)
# with its receive buffers still posted, then probes it afresh; the new
# rings must work and nothing of the old ones may be touched (a DART fault
# would end the simulator).
VDEV=$(basename "$(readlink -f "/sys/class/net/$IF/device")")
check virtio-net-unbind sh -c "echo $VDEV >/sys/bus/virtio/drivers/virtio_net/unbind"
check virtio-net-interface-gone sh -c "! test -e /sys/class/net/$IF"
check virtio-net-rebind sh -c "echo $VDEV >/sys/bus/virtio/drivers/virtio_net/bind"
require virtio-net-interface-again wait_vnet 20
IF=$(vnet_iface)
vnet_loop rebind "${VNET_FRAMES_REBIND:-1000}" 2
# For the host's last look (companion mode samples QEMU's counters here).
echo "VFIOAPPLE-SYNC vnet-done"
sleep 1
