# The out-of-tree module pipeline: our cross-built test module loaded.
check_eq hello-module-param 42 "$(cat /sys/module/vfio_apple_hello/parameters/answer 2>/dev/null)"
check hello-module-said-hello sh -c 'dmesg | grep -q "vfio_apple_hello: loaded"'
