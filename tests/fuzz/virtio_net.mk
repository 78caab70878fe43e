# libFuzzer target for the virtio-net model's virtqueue walking and
# loopback datapath (clang, ASan + UBSan), built from the model's sources.
# Run: fuzz_virtio_net -max_total_time=30 tests/fuzz/corpus/fuzz_virtio_net
FUZZ_VNET := $(BUILD)/tests/fuzz/fuzz_virtio_net
FUZZ_VNET_SRCS := tests/fuzz/fuzz_virtio_net.c sim/model-opts.c sim/pci-config.c \
                  sim/poll-thread.c $(sort $(wildcard sim/virtio*.c))

$(FUZZ_VNET): $(FUZZ_VNET_SRCS) $(wildcard sim/virtio*.h) sim/model-opts.h sim/pci-config.h \
              sim/poll-thread.h sim/device.h tests/fuzz/fuzz-mem.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(FUZZ_VNET_SRCS) -lpthread

FUZZERS += $(FUZZ_VNET)
