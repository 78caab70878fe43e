# Sync point for the host (the demo samples counters here).
echo "VFIOAPPLE-SYNC ${SYNC:-mark}"
sleep 1
