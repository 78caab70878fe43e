# Long-running I/O during which the host kills a process (the simulator or
# QEMU).  Marks the moment with a SYNC line, then reports how the I/O ended.
echo "VFIOAPPLE-SYNC io-start"
t0=$(uptime_ms)
dd if=/dev/zero of=/dev/nvme0n1 bs=1M count=2048 oflag=direct 2>/tmp/dd.err
rc=$?
t1=$(uptime_ms)
note "io_rc=$rc io_ms=$((t1 - t0))"
check io-failed-with-error test "$rc" -ne 0
check io-error-reported grep -qi "error" /tmp/dd.err
dmesg | grep -i nvme | tail -5
