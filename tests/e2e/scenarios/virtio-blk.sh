# An emulated virtio-blk-pci disk on the same host bridge as the passthrough
# device: its DMA goes through the bus's offset address space.
require virtio-blk-present wait_for /dev/vda 20
check virtio-blk-is-block test -b /dev/vda
got=$(dd if=/dev/vda bs=1M count=$VBLK_MB iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
check_eq virtio-blk-reads-known-data "$VBLK_SHA" "$got"
dd if=/dev/urandom of=/tmp/vb bs=1M count=8 2>/dev/null
check virtio-blk-write dd if=/tmp/vb of=/dev/vda bs=1M count=8 oflag=direct
note "vblk_written_sha=$(sha256sum </tmp/vb | cut -d' ' -f1)"
