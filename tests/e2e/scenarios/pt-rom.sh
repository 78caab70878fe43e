# The expansion ROM through sysfs: the simulator's image, read through the
# dext (not a QEMU romfile).
ROMF=/sys/bus/pci/devices/$PT_BDF/rom
require rom-file-exists test -e "$ROMF"
echo 1 >"$ROMF"
dd if="$ROMF" of=/tmp/rom bs=4k 2>/dev/null
echo 0 >"$ROMF"
check_eq rom-size 65536 "$(wc -c </tmp/rom | tr -d ' ')"
check_eq rom-signature 55aa "$(head -c 2 /tmp/rom | od -An -tx1 | tr -d ' \n')"
check rom-has-simulator-text grep -q "vfio-apple-sim NVMe expansion ROM" /tmp/rom
note "rom_sha256=$(sha256sum </tmp/rom | cut -d' ' -f1)"
# The host tries to migrate and asks HMP about the device at this point.
echo "VFIOAPPLE-SYNC monitor"
sleep 2
