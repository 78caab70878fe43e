# The companion benchmark's workloads (tests/bench/companion.py), each
# BENCH_RUNTIME seconds of fio on the passthrough NVMe, O_DIRECT, libaio;
# the host samples its counters at the SYNC lines around each, and reads
# fio's JSON from between the BENCH-JSON lines.
BENCH_RUNTIME=${BENCH_RUNTIME:-5}
require bench-block-device wait_for /dev/nvme0n1 20
# Something to read: the first 256 MiB written once.
dd if=/dev/zero of=/dev/nvme0n1 bs=1M count=256 oflag=direct 2>/dev/null
bench() {   # name rw bs iodepth numjobs
	echo "VFIOAPPLE-SYNC bench-start-$1"
	sleep 1
	fio --name="$1" --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --rw="$2" \
		--bs="$3" --iodepth="$4" --numjobs="$5" --size=256M --time_based \
		--runtime="$BENCH_RUNTIME" --group_reporting --output-format=json >/tmp/b.json 2>&1
	echo "VFIOAPPLE-SYNC bench-end-$1"
	sleep 1
	echo "BENCH-JSON-BEGIN $1"
	cat /tmp/b.json
	echo "BENCH-JSON-END $1"
}
bench randread-4k-qd1 randread 4k 1 1
bench randread-4k-qd32 randread 4k 32 1
bench seqread-128k read 128k 32 1
bench randwrite-4k-qd32 randwrite 4k 32 1
