# The dext client library (plain C, libc + pthread): linked by the
# simulator's `stats` command and the test client here, compiled into QEMU
# by the QEMU overlay.
CLIENT_SRCS := $(sort $(wildcard client/*.c))
CLIENT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CLIENT_SRCS))
CLIENT_LIB  := $(BUILD)/client/libvfa-client.a

$(CLIENT_LIB): $(CLIENT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

all: $(CLIENT_LIB)
