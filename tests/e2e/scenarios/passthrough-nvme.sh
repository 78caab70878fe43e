# Issue 4, e2e test 1 (after pt-device.sh, before pt-msix.sh): no INTx
# offered, the host samples the dext calls of the probe, then $MB MiB
# written with O_DIRECT and read back (nvme_io).

MB=${MB:-256}
pin=$(dd if="$PT_SYSFS/config" bs=1 skip=61 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
check_eq no-intx-pin 0 "$pin"
# The driver's probe is over: the host samples QEMU's dext call count.
echo "VFIOAPPLE-SYNC probed"
sleep 1

# nvme_io times the write and a plain O_DIRECT read apart from the
# generation and hashing of the pattern, so its notes measure the device path.
nvme_io "" "$MB"
echo "VFIOAPPLE-SYNC io-done"
sleep 1
