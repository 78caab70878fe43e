# fio writes with its own checksums (crc32c) and verifies them: libaio,
# O_DIRECT, iodepth 32, 4 jobs on disjoint FIO_MB-MiB regions (default 16)
# of /dev/nvme0n1, block sizes 4 KiB to 1 MiB.  Then the verifier must be
# able to fail: a verify-only pass over a region that was never written
# (zeros: no valid headers) has to report errors.
FIO_MB=${FIO_MB:-16}
require fio-present test -x /bin/fio
require fio-runs fio --version
require fio-block-device wait_for /dev/nvme0n1 20
fio_job() {   # extra options...
	fio --name=v --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --iodepth=32 \
		--numjobs=4 --size="${FIO_MB}M" --offset_increment="${FIO_MB}M" \
		--bsrange=4k-1m --rw=randwrite --verify=crc32c --verify_fatal=1 \
		--group_reporting "$@"
}
t0=$(uptime_ms)
fio_job >/tmp/fio.out 2>&1
rc=$?
t1=$(uptime_ms)
tail -25 /tmp/fio.out
check_eq fio-verify-passed 0 "$rc"
check fio-no-errors grep -q "err= 0" /tmp/fio.out
note "fio_ms=$((t1 - t0)) fio_bytes=$((4 * FIO_MB * 1024 * 1024))"
# Never written: from 4 * FIO_MB MiB on (the disk is larger).
fio_job --verify_only --offset=$((8 * FIO_MB))M >/tmp/fio-neg.out 2>&1
rc=$?
grep -iE "verify|bad|err" /tmp/fio-neg.out | head -5
check_ne fio-verify-detects-bad-data 0 "$rc"
check fio-reported-verify-error grep -qiE "verify: bad|bad magic|bad header|verify failed" /tmp/fio-neg.out
