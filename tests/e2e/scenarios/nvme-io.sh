# NVMe I/O: the stock nvme driver is bound and MB (default 64) MiB of random
# data written with O_DIRECT read back with equal checksums.
require nvme-block-device wait_for /dev/nvme0n1 20
check nvme-block-device-is-block test -b /dev/nvme0n1
check_eq nvme-driver-bound nvme "$(basename "$(readlink /sys/class/nvme/nvme0/device/driver 2>/dev/null)")"
nvme_io "" "${MB:-64}"
