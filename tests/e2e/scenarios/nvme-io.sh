# NVMe I/O scenario: the stock nvme driver binds, 64 MiB of random data
# written with O_DIRECT, read back, checksums equal.

MB=64


wait_for /dev/nvme0n1 20
check nvme-block-device test -b /dev/nvme0n1
drv=$(basename "$(readlink /sys/class/nvme/nvme0/device/driver 2>/dev/null)")
check_eq nvme-driver-bound nvme "$drv"

dd if=/dev/urandom of=/tmp/pattern bs=1M count=$MB 2>/dev/null
t0=$(uptime_ms)
check dd-write-direct dd if=/tmp/pattern of=/dev/nvme0n1 bs=1M count=$MB oflag=direct
t1=$(uptime_ms)
check dd-read-direct dd if=/dev/nvme0n1 of=/tmp/readback bs=1M count=$MB iflag=direct
t2=$(uptime_ms)
note "write_ms=$((t1 - t0)) read_ms=$((t2 - t1))"
want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
got=$(sha256sum </tmp/readback | cut -d' ' -f1)
check_eq readback-checksum-equal "$want" "$got"
note "bytes_verified=$((MB * 1024 * 1024)) sha256=$got"

# The comparison above must be able to fail: flip one byte of the copy and
# the checksum has to change.
printf 'X' | dd of=/tmp/readback bs=1 seek=12345 conv=notrunc 2>/dev/null
bad=$(sha256sum </tmp/readback | cut -d' ' -f1)
check_ne checksum-detects-corruption "$want" "$bad"
