# Issue 7 item 2 (after pt-device.sh): the host stops the simulator (the
# dext) with SIGSTOP for a while during this I/O, then lets it go on.
#
# Foreground: $CHUNK_MB MiB of random data written again and again with
# O_DIRECT to $SLOTS slots of /dev/nvme0n1.  Background: the PCIe Device
# Status register (config offset $DEVSTA_OFF: the simulated controller's
# PCIe capability is at 0x60; QEMU does not cache it, so every read is a
# dext call) read every 0.5 s through sysfs.  The loop ends once the
# freeze has been seen and is over (a Status read of all-ones or a chunk
# that took more than FREEZE_SEEN_MS, then a normal Status read and two
# more chunks), when the disk is gone (QEMU declared the device lost), or
# after IO_MAX_MS.  Then every slot is read back and compared; if some
# write failed (the driver's timeout/reset path), one more verified write
# and read shows whether the disk is back.  Whether the device should have
# recovered is the host's to judge (it knows what QEMU decided): what
# depends on it is reported as notes, the host checks them.
CHUNK_MB=${CHUNK_MB:-16}
SLOTS=${SLOTS:-8}
IO_MAX_MS=${IO_MAX_MS:-110000}
FREEZE_SEEN_MS=${FREEZE_SEEN_MS:-10000}
DEVSTA_OFF=${DEVSTA_OFF:-$((0x6a))}
CFG="$PT_SYSFS/config"
note "nvme_io_timeout=$(cat /sys/module/nvme_core/parameters/io_timeout 2>/dev/null) nvme_admin_timeout=$(cat /sys/module/nvme_core/parameters/admin_timeout 2>/dev/null)"

require freeze-pattern dd if=/dev/urandom of=/tmp/pattern bs=1M count="$CHUNK_MB"
want=$(sha256sum </tmp/pattern | cut -d' ' -f1)

# Status register reader: "<uptime ms> <hex value> <ms the read took>" per line.
status_reader() {
	while [ ! -e /tmp/stop-status ]; do
		t=$(uptime_ms)
		v=$(dd if="$CFG" bs=2 skip=$((DEVSTA_OFF / 2)) count=1 2>/dev/null | od -An -tx2 | tr -d ' \n')
		echo "$t ${v:-none} $(($(uptime_ms) - t))" >>/tmp/status.log
		sleep 0.5
	done
}
: >/tmp/status.log
status_reader &
reader=$!

echo "VFIOAPPLE-SYNC freeze-io"
t0=$(uptime_ms)
i=0; fails=0; max_ms=0; seen=""; back=""; after=0
while :; do
	t=$(uptime_ms)
	if ! dd if=/tmp/pattern of=/dev/nvme0n1 bs=1M count="$CHUNK_MB" \
		seek=$(((i % SLOTS) * CHUNK_MB)) oflag=direct 2>/tmp/dd.err; then
		fails=$((fails + 1))
		tail -1 /tmp/dd.err
		eval "failed_slot_$((i % SLOTS))=1"
	else
		eval "failed_slot_$((i % SLOTS))="
	fi
	now=$(uptime_ms)
	d=$((now - t))
	[ $d -gt $max_ms ] && max_ms=$d
	i=$((i + 1))
	if [ -z "$seen" ] && { [ $d -gt "$FREEZE_SEEN_MS" ] || grep -q ' ffff ' /tmp/status.log; }; then
		seen=$now
		echo "freeze seen at +$((now - t0)) ms (chunk $i took $d ms)"
	fi
	if [ -n "$seen" ] && [ -z "$back" ] &&
		awk -v s="$seen" '$1 > s && $2 != "ffff" && $2 != "none" { f = 1 } END { exit !f }' /tmp/status.log; then
		back=$now
		echo "freeze over at +$((now - t0)) ms"
	fi
	[ -n "$back" ] && after=$((after + 1))
	[ $after -ge 2 ] && break
	[ -e /dev/nvme0n1 ] || { echo "the disk is gone"; break; }
	[ $((now - t0)) -gt "$IO_MAX_MS" ] && break
done
t1=$(uptime_ms)
touch /tmp/stop-status
wait $reader

reads=$(wc -l </tmp/status.log)
ones=$(grep -c ' ffff ' /tmp/status.log)
slowest=$(awk '$3 > m { m = $3 } END { print m + 0 }' /tmp/status.log)
note "io_chunks=$i io_fails=$fails io_ms=$((t1 - t0)) io_max_chunk_ms=$max_ms freeze_seen=${seen:+$((seen - t0))} freeze_over=${back:+$((back - t0))}"
note "status_reads=$reads status_allones=$ones status_slowest_ms=$slowest"
check freeze-seen-by-guest test -n "$seen"
# The reader went on while the dext was stopped: the stuck device answered
# all-ones at once instead of holding the vCPU for the whole freeze.
check status-reads-answered-during-freeze test "$ones" -ge 20
check status-reads-fast test "$slowest" -lt 2000

# Every slot holds the pattern (a slot whose last write failed is skipped).
n=$SLOTS; [ $i -lt $n ] && n=$i
bad=""
s=0
while [ -e /dev/nvme0n1 ] && [ $s -lt $n ]; do
	if eval "[ -z \"\$failed_slot_$s\" ]"; then
		got=$(dd if=/dev/nvme0n1 bs=1M count="$CHUNK_MB" skip=$((s * CHUNK_MB)) iflag=direct 2>/dev/null |
			sha256sum | cut -d' ' -f1)
		[ "$got" = "$want" ] || bad="$bad,$s"
	fi
	s=$((s + 1))
done
again=""
if [ "$fails" -gt 0 ]; then
	# The driver's reset path: is the disk back?  One verified write and read.
	again=no
	if wait_for /dev/nvme0n1 30 >/dev/null &&
		dd if=/tmp/pattern of=/dev/nvme0n1 bs=1M count="$CHUNK_MB" oflag=direct 2>/dev/null; then
		got=$(dd if=/dev/nvme0n1 bs=1M count="$CHUNK_MB" iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "$got" = "$want" ] && again=yes
	fi
fi
gone=0; [ -e /dev/nvme0n1 ] || gone=1
note "slots_checked=$n slots_bad=${bad#,} verified_after_failure=$again disk_gone=$gone"
echo "--- status reads (uptime_ms value read_ms), around the freeze:"
awk '$2 == "ffff" || $3 > 400' /tmp/status.log | sed -n '1,3p;$p'
dmesg | grep -i nvme | tail -8
rm -f /tmp/pattern
