# Memory zones as the guest kernel derived them from the firmware tables
# (dma-ranges, or ACPI's IORT): spanned pages of the DMA, DMA32 and Normal
# zones, and where the DMA zone starts (a page frame number).  Under UEFI
# the firmware's own regions below RAM start the zone before RAM does.
zone_field() { awk -v z="$1" -v k="$2" '$1 == "Node" && $4 == z { f = 1; next } f && $1 == k { print $2; exit }' /proc/zoneinfo; }
zone_pages() { zone_field "$1" spanned; }
note "page_size=$(page_size) zone_dma_pages=$(zone_pages DMA) zone_dma32_pages=$(zone_pages DMA32) zone_normal_pages=$(zone_pages Normal) zone_dma_start_pfn=$(zone_field DMA start_pfn:)"
