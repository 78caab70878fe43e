# The dext client library: linked by the simulator's `stats` command, the
# tests and the tools; compiled into QEMU by the QEMU overlay.  Its sources
# follow QEMU's rules (qemu/osdep.h first, QemuMutex); outside QEMU,
# client/compat/ provides those two headers.
CLIENT_SRCS := $(sort $(wildcard client/*.c))
CLIENT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CLIENT_SRCS))
CLIENT_LIB  := $(BUILD)/client/libvfa-client.a

$(CLIENT_OBJS): ALL_CFLAGS += -Iclient/compat

$(CLIENT_LIB): $(CLIENT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

all: $(CLIENT_LIB)
