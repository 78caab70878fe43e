# vfio-apple: host-side C code (dext core, simulator, tests, tools).
#
# QEMU and the guest kernel pieces are built by scripts/ (they need the
# cached sources); this Makefile builds everything that is plain C on the
# build machine.  Each layer adds its rules in its own fragment, *.mk,
# included below, so the layers stay separate.
#
# Fragments append to:
#   BINS        programs built by `make all`
#   UNIT_TESTS  cmocka test programs run by `make unit`
#   FUZZERS     libFuzzer programs (clang) built by `make fuzzers`

BUILD     ?= build
CC        ?= cc
CLANG     ?= clang
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude $(CFLAGS)
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Iinclude -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

BINS       :=
UNIT_TESTS :=
FUZZERS    :=

.PHONY: all unit fuzzers clean check demo
all:

include $(sort $(wildcard */*.mk */*/*.mk))

all: $(BINS) $(UNIT_TESTS)
unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do echo "--- $$t"; ./$$t || exit 1; done
fuzzers: $(FUZZERS)

# Generic object rule: build/<path>.o from <path>.c, with header deps.
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -type f -name '*.d' 2>/dev/null)

# The two README commands.
check:
	@./scripts/test.sh
demo:
	@./scripts/demo.sh

clean:
	rm -rf $(BUILD)

# For scripts/test.sh: the programs to run.
list-unit-tests:
	@echo $(UNIT_TESTS)
list-fuzzers:
	@echo $(FUZZERS)
.PHONY: list-unit-tests list-fuzzers

# The apple_dma guest module's DKMS package (docs/companion.md).
guest-deb:
	@./scripts/guest-apple-dma-deb.sh build
# Window vs companion vs sync-baseline, one run (docs/benchmarks.md).
bench-companion: all
	@/usr/bin/python3 tests/bench/companion.py
.PHONY: guest-deb bench-companion

# Our QEMU changes as a git format-patch series against the pinned base.
qemu-patches:
	@./scripts/qemu-export-patches.sh build/qemu-patches
.PHONY: qemu-patches
