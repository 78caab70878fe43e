# Memory zones as the guest kernel derived them from the device tree's
# dma-ranges: spanned pages of the DMA, DMA32 and Normal zones.
zone_pages() { awk -v z="$1" '$1 == "Node" && $4 == z { f = 1; next } f && $1 == "spanned" { print $2; exit }' /proc/zoneinfo; }
note "page_size=$(page_size) zone_dma_pages=$(zone_pages DMA) zone_dma32_pages=$(zone_pages DMA32) zone_normal_pages=$(zone_pages Normal)"
