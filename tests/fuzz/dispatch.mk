# libFuzzer target for the dext core's dispatcher (clang, ASan + UBSan).
# Built from sources, not from the gcc objects, so everything is
# instrumented.
FUZZ_DISPATCH := $(BUILD)/tests/fuzz/fuzz_dispatch
FUZZ_DISPATCH_SRCS := tests/fuzz/fuzz_dispatch.c tests/unit/test_core_fake.c \
                      $(sort $(wildcard dext/core/*.c))

$(FUZZ_DISPATCH): $(FUZZ_DISPATCH_SRCS) $(wildcard dext/core/*.h) \
                  tests/unit/test_core_fake.h include/vfio-apple/dext-abi.h \
                  include/vfio-apple/pci-cfg.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(FUZZ_DISPATCH_SRCS)

FUZZERS += $(FUZZ_DISPATCH)
