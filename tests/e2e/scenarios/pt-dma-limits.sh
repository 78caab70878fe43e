# The DMA limits the guest kernel derived for the passthrough NVMe (after
# pt-device.sh), and NVMe commands per MiB: the host samples the
# simulator's command counters at the SYNC lines around LIMITS_MB
# (default 32) MiB of 1 MiB O_DIRECT writes, then reads, at offset
# LIMITS_MB MiB (the disk must hold 2 * LIMITS_MB MiB).
LIMITS_MB=${LIMITS_MB:-32}
Q=/sys/block/nvme0n1/queue
require dma-limits-queue wait_for $Q/max_hw_sectors_kb 20
note "max_hw_sectors_kb=$(cat $Q/max_hw_sectors_kb) max_sectors_kb=$(cat $Q/max_sectors_kb) max_segments=$(cat $Q/max_segments) max_segment_size=$(cat $Q/max_segment_size)"
# swiotlb set up at all (6.1 only when RAM lies beyond the DMA zone; 6.5+
# arm64 always, for kmalloc bouncing), and whether the DMA layer called the
# device addressing-limited (6.12 prints that as a dev_dbg: boot with
# dyndbg="file kernel/dma/mapping.c +p" to see it).
note "swiotlb_lines=$(dmesg | grep -c 'software IO TLB') addressing_limited_lines=$(dmesg | grep -c 'DMA addressing limited')"
dmesg | grep -E 'software IO TLB|addressing limited|Zone ranges|  (DMA|DMA32|Normal) ' | sed 's/^/dmesg: /'
# The host bridge's dma-ranges, as the guest got them (hex cells).
for f in /proc/device-tree/pcie@*/dma-ranges; do
	[ -e "$f" ] && note "dma_ranges=$(od -An -tx1 -v "$f" | tr -d ' \n')"
done
echo "VFIOAPPLE-SYNC cmds-start"
sleep 1
check limits-write dd if=/dev/zero of=/dev/nvme0n1 bs=1M count="$LIMITS_MB" seek="$LIMITS_MB" oflag=direct
echo "VFIOAPPLE-SYNC cmds-written"
sleep 1
check limits-read dd if=/dev/nvme0n1 of=/dev/null bs=1M count="$LIMITS_MB" skip="$LIMITS_MB" iflag=direct
echo "VFIOAPPLE-SYNC cmds-read"
sleep 1
note "limits_mb=$LIMITS_MB"
