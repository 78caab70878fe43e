# Reset paths of the passthrough device: sysfs reset (the kernel picks the
# function's reset method; it must reach the dext's reset) and driver
# unbind/rebind.  I/O is verified after each.
note "phase=before-reset reset_methods=$(cat /sys/bus/pci/devices/$PT_BDF/reset_method 2>/dev/null | tr ' ' ,)"
echo "VFIOAPPLE-SYNC before-reset"
sleep 2
require sysfs-reset sh -c "echo 1 > /sys/bus/pci/devices/$PT_BDF/reset"
echo "VFIOAPPLE-SYNC after-reset"
sleep 2
# nvme re-initialises the controller after a reset it did not start itself
# only through its reset_done hook; wait for the namespace to be usable.
nvme_io after-reset 16
require unbind-driver sh -c "echo $PT_BDF > /sys/bus/pci/drivers/nvme/unbind"
check device-unbound test ! -e /sys/bus/pci/devices/$PT_BDF/driver
require rebind-driver sh -c "echo $PT_BDF > /sys/bus/pci/drivers/nvme/bind"
nvme_io after-rebind 16
