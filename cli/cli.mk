# vfio-apple, the user's command (cli/): a portable core (options, DMA
# mode choice, command lines, reports, the selftest over the client
# library) plus one host file (device discovery, DMA memory): host-linux.c
# on Linux, host-macos.c (the dext's devices through IOKit) on a Mac.
CLI_HOST_SRCS := cli/host-linux.c
# On a Mac: the dext's devices through IOKit (cli/host-macos.c).
ifeq ($(shell uname -s),Darwin)
CLI_HOST_SRCS := cli/host-macos.c
CLI_HOST_LIBS := -framework IOKit -framework CoreFoundation
endif
CLI_CORE_SRCS := $(filter-out cli/main.c cli/host-%.c,$(sort $(wildcard cli/*.c)))
CLI_CORE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CLI_CORE_SRCS) $(CLI_HOST_SRCS))
CLI_VERSION   := $(shell cat VERSION 2>/dev/null || echo unknown)

$(BUILD)/cli/main.o: ALL_CFLAGS += -DVFA_VERSION='"$(CLI_VERSION)"'

# (client/client.mk is included after this file: name its library here.)
CLI_CLIENT_LIB := $(BUILD)/client/libvfa-client.a

$(BUILD)/vfio-apple: $(BUILD)/cli/main.o $(CLI_CORE_OBJS) $(CLI_CLIENT_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lpthread -lm $(CLI_HOST_LIBS)

BINS += $(BUILD)/vfio-apple
