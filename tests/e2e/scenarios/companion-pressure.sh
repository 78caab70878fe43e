# Companion mode with a DART budget far smaller than the I/O in flight:
# 4 jobs at iodepth 64 with 512 KiB-1 MiB blocks want up to 256 MiB mapped
# at once, spread over more chunks than fit.  Maps the host cannot make
# become DMA mapping errors (logged, counted), which nvme retries; the
# host's span reserve keeps every request mappable once earlier ones
# complete, so the whole job must finish, verified, with no panic and no
# hang.  Then, with the pressure gone, I/O must be correct again in the
# same VM: dd read back, and fio's own crc32c verification.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
ADMA_BDF=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1b36:0x0015" ] && basename "$d"
done | head -n1)
adma_stat() { awk -v k="$1" '$1 == k { print $2 }' "/sys/kernel/debug/apple_dma/$ADMA_BDF/stats"; }
t0=$(uptime_ms)
# Size-based: every block written is read back and checked (crc32c).  A starved
# request would keep the job from ending: the timeout is what "no hang"
# means here, far above what the job needs (about 10 s under TCG).
timeout 300 fio --name=pressure --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio \
	--iodepth=64 --numjobs=4 --size=64M --io_size=256M --offset_increment=64M \
	--bsrange=512k-1m --rw=randwrite --verify=crc32c --verify_fatal=1 \
	--group_reporting >/tmp/fio-p.out 2>&1
rc=$?
t1=$(uptime_ms)
tail -8 /tmp/fio-p.out
note "pressure_fio_rc=$rc pressure_fio_ms=$((t1 - t0)) pressure_written=$(sed -n 's/.*WRITE:.* io=\([0-9.]*[KMGT]i*B\).*/\1/p' /tmp/fio-p.out) pressure_map_errors=$(adma_stat errors) pressure_no_space=$(adma_stat no_space) pressure_spans=$(adma_stat spans)"
check_eq pressure-fio-verified 0 "$rc"
check pressure-maps-failed-in-guest test "$(adma_stat no_space)" -gt 0
check pressure-failures-logged sh -c 'dmesg | grep -q "DART budget exhausted"'
check pressure-spans-used test "$(adma_stat spans)" -gt 0
check pressure-budget-kept test "$(adma_stat host_used_bytes)" -le "$(adma_stat host_budget_bytes)"
echo "VFIOAPPLE-SYNC pressure-stats"
sleep 1
nvme_io after-pressure 8
fio --name=after --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --iodepth=8 \
	--numjobs=1 --size=32M --bsrange=4k-256k --rw=randwrite --verify=crc32c \
	--verify_fatal=1 >/tmp/fio-after.out 2>&1
check_eq after-pressure-fio-verified 0 "$?"
