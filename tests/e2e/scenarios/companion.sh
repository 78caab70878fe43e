# Companion mode: apple_dma bound to the apple-dma-pci companion and is the
# passthrough NVMe's DMA API, then fio's verified I/O (COMP_MB MiB per job
# and pattern, 4 jobs, iodepth 32: sequential 128 KiB-1 MiB writes, then
# random 4-64 KiB writes, each verified with crc32c), all of it with no
# swiotlb.  Sets ADMA_DIR for later scripts.
COMP_MB=${COMP_MB:-128}
mount -t debugfs none /sys/kernel/debug 2>/dev/null
ADMA_BDF=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1b36:0x0015" ] && basename "$d"
done | head -n1)
require companion-present test -n "$ADMA_BDF"
check_eq companion-driver apple_dma "$(basename "$(readlink "/sys/bus/pci/devices/$ADMA_BDF/driver")")"
ADMA_DIR=/sys/kernel/debug/apple_dma/$ADMA_BDF
require companion-debugfs test -r "$ADMA_DIR/stats"
adma_stat() { awk -v k="$1" '$1 == k { print $2 }' "$ADMA_DIR/stats"; }
check companion-ops-installed sh -c 'dmesg | grep -q "apple_dma: DMA through the companion"'
swiotlb_used() { cat /sys/kernel/debug/swiotlb/io_tlb_used 2>/dev/null || echo 0; }
swiotlb_hiwater() { cat /sys/kernel/debug/swiotlb/io_tlb_used_hiwater 2>/dev/null || echo 0; }
hw0=$(swiotlb_hiwater)

fio_comp() {   # name rw bsrange
	fio --name="$1" --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --iodepth=32 \
		--numjobs=4 --size="${COMP_MB}M" --offset_increment="${COMP_MB}M" \
		--offset="$4" --bsrange="$3" --rw="$2" --verify=crc32c --verify_fatal=1 \
		--group_reporting >"/tmp/fio-$1.out" 2>&1
}
t0=$(uptime_ms)
fio_comp seq write 128k-1m 0
rc_seq=$?
fio_comp rand randwrite 4k-64k $((4 * COMP_MB))M
rc_rand=$?
t1=$(uptime_ms)
tail -8 /tmp/fio-seq.out; tail -8 /tmp/fio-rand.out
check_eq companion-fio-seq-verified 0 "$rc_seq"
check_eq companion-fio-rand-verified 0 "$rc_rand"
check companion-fio-no-errors sh -c 'grep -q "err= 0" /tmp/fio-seq.out && grep -q "err= 0" /tmp/fio-rand.out'
note "companion_fio_ms=$((t1 - t0)) companion_fio_bytes=$((8 * COMP_MB * 1024 * 1024))"
cat "$ADMA_DIR/stats"
check_eq companion-no-swiotlb-in-use 0 "$(swiotlb_used)"
check_eq companion-no-swiotlb-growth "$hw0" "$(swiotlb_hiwater)"
check_eq companion-no-map-errors 0 "$(adma_stat errors)"
check_eq companion-no-timeouts 0 "$(adma_stat timeouts)"
check companion-table-hits test "$(adma_stat table_hits)" -gt 0
check companion-misses-went-to-host test "$(adma_stat misses)" -gt 0
check companion-budget-kept test "$(adma_stat host_used_bytes)" -le "$(adma_stat host_budget_bytes)"
note "adma_maps=$(adma_stat maps) adma_table_hits=$(adma_stat table_hits) adma_window_hits=$(adma_stat window_hits) adma_misses=$(adma_stat misses) adma_doorbells=$(adma_stat doorbells) adma_entries=$(adma_stat entries) adma_spans=$(adma_stat spans)"
echo "VFIOAPPLE-SYNC companion-stats"
sleep 2
