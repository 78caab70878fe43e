# Long-running I/O during which the host kills a process (the simulator or
# QEMU).  Marks the moment with a SYNC line, then writes until the I/O fails
# (bounded: 200 x 256 MiB, far longer than the host waits), and reports how
# it ended.
# The timeouts nvme_core runs with (the host may have shortened them).
note "nvme_io_timeout=$(cat /sys/module/nvme_core/parameters/io_timeout 2>/dev/null) nvme_admin_timeout=$(cat /sys/module/nvme_core/parameters/admin_timeout 2>/dev/null)"
echo "VFIOAPPLE-SYNC io-start"
t0=$(uptime_ms)
i=0
rc=0
while [ $i -lt 200 ]; do
	dd if=/dev/zero of=/dev/nvme0n1 bs=1M count=256 seek=$(((i % 12) * 256)) \
		oflag=direct 2>/tmp/dd.err || { rc=$?; break; }
	i=$((i + 1))
done
t1=$(uptime_ms)
note "io_rc=$rc io_ms=$((t1 - t0)) io_chunks_done=$i"
check io-failed-with-error test "$rc" -ne 0
check io-error-reported grep -qi "error" /tmp/dd.err
dmesg | grep -i nvme | tail -5
