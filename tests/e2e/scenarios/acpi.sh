# The guest booted through UEFI firmware with ACPI, not from the device
# tree: the IORT is there and the kernel unflattened no device tree (so no
# dma-ranges can have told it the window).  Prints the DSDT and the IORT
# it got, in hex, for the host to disassemble (iasl).
require acpi-iort-table test -e /sys/firmware/acpi/tables/IORT
check acpi-no-device-tree test ! -e /sys/firmware/devicetree/base
for t in DSDT IORT; do
	note "acpi_$(echo $t | tr A-Z a-z)=$(od -An -tx1 -v /sys/firmware/acpi/tables/$t | tr -d ' \n')"
done
