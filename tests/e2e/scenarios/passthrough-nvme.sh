# Issue 4, e2e test 1 (after pt-device.sh, before pt-msix.sh): no INTx
# offered, the host samples the dext calls of the probe, then $MB MiB
# written with O_DIRECT and read back (nvme_io), then the device path's
# throughput without the guest's random generator and hash in the way.

MB=${MB:-256}
pin=$(dd if="$PT_SYSFS/config" bs=1 skip=61 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
check_eq no-intx-pin 0 "$pin"
# The driver's probe is over: the host samples QEMU's dext call count.
echo "VFIOAPPLE-SYNC probed"
sleep 1

# nvme_io keeps the pattern in /tmp: tmpfs defaults to half of RAM, less
# than 256 MiB in a 512 MiB guest.
mount -o remount,size=90% /tmp
nvme_io "" "$MB"

# Zeros to the second half of the disk: TCG makes urandom and sha256 the
# bottleneck of the verified pass, not the device path.
t0=$(uptime_ms)
check dd-write-zeros-direct dd if=/dev/zero of=/dev/nvme0n1 bs=1M seek="$MB" count="$MB" oflag=direct
t1=$(uptime_ms)
check dd-read-direct-raw dd if=/dev/nvme0n1 of=/dev/null bs=1M skip="$MB" count="$MB" iflag=direct
t2=$(uptime_ms)
note "raw_write_ms=$((t1 - t0)) raw_read_ms=$((t2 - t1))"
echo "VFIOAPPLE-SYNC io-done"
sleep 1
