# Companion mode with a DART budget far smaller than the I/O in flight:
# 4 jobs at iodepth 16 with 512 KiB-1 MiB blocks want up to 64 MiB mapped
# at once.  Maps the host cannot make become DMA mapping errors, which nvme
# turns into retries (or I/O errors): fio must end on time, never hang or
# panic.  Then, with the pressure gone, I/O must be correct again in the
# same VM: dd read back, and fio's own crc32c verification.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
ADMA_BDF=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1b36:0x0015" ] && basename "$d"
done | head -n1)
adma_stat() { awk -v k="$1" '$1 == k { print $2 }' "/sys/kernel/debug/apple_dma/$ADMA_BDF/stats"; }
t0=$(uptime_ms)
# Time-based: how much gets through under pressure varies with how the
# buffers' pages lie (whole chunks, or page spans when they do not fit);
# what must hold is that fio ends on time, with no panic and no hang.
timeout 120 fio --name=pressure --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio \
	--iodepth=16 --numjobs=4 --size=64M --offset_increment=64M --bsrange=512k-1m \
	--rw=randwrite --time_based --runtime=20 --group_reporting >/tmp/fio-p.out 2>&1
rc=$?
t1=$(uptime_ms)
tail -6 /tmp/fio-p.out
note "pressure_fio_rc=$rc pressure_fio_ms=$((t1 - t0)) pressure_map_errors=$(adma_stat errors)"
check pressure-fio-ended-or-eio sh -c "[ $rc = 0 ] || grep -q 'Input/output error' /tmp/fio-p.out"
check pressure-maps-failed-in-guest test "$(adma_stat errors)" -gt 0
check pressure-budget-kept test "$(adma_stat host_used_bytes)" -le "$(adma_stat host_budget_bytes)"
echo "VFIOAPPLE-SYNC pressure-stats"
sleep 1
nvme_io after-pressure 8
fio --name=after --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --iodepth=8 \
	--numjobs=1 --size=32M --bsrange=4k-256k --rw=randwrite --verify=crc32c \
	--verify_fatal=1 >/tmp/fio-after.out 2>&1
check_eq after-pressure-fio-verified 0 "$?"
