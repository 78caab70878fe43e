# libFuzzer target for the NVMe model's command and PRP parsing (clang,
# ASan + UBSan).  Built from the model's sources so all of it is
# instrumented.  Run: fuzz_nvme -max_total_time=30 tests/fuzz/corpus/fuzz_nvme
FUZZ_NVME := $(BUILD)/tests/fuzz/fuzz_nvme
FUZZ_NVME_SRCS := tests/fuzz/fuzz_nvme.c sim/model-opts.c sim/pci-config.c sim/poll-thread.c $(sort $(wildcard sim/nvme*.c))

$(FUZZ_NVME): $(FUZZ_NVME_SRCS) $(wildcard sim/nvme*.h) sim/model-opts.h sim/pci-config.h sim/poll-thread.h sim/device.h tests/fuzz/fuzz-mem.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(FUZZ_NVME_SRCS) -lpthread

FUZZERS += $(FUZZ_NVME)
