# The portable dext core (dext/core): a static archive linked by the
# simulator, the unit tests and the fuzzer.  The DriverKit shell compiles
# the same sources with Xcode.
CORE_SRCS := $(sort $(wildcard dext/core/*.c))
CORE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRCS))
CORE_LIB  := $(BUILD)/dext/core/libvfa-core.a

$(CORE_LIB): $(CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

all: $(CORE_LIB)
