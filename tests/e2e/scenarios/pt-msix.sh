# After I/O: the guest used more than one MSI-X vector of the device.
used=$(msix_vectors_used)
note "msix_vectors_used=$used"
check msix-more-than-one-vector test "$used" -gt 1
