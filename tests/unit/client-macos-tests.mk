# cmocka tests of the IOKit transport's portable half (client/iokit-match.c,
# client/iokit-callq.c, in the client library): host-location parsing and
# choice (ambiguous BDFs across root ports), IOReturn meanings, cache modes,
# and the worker-thread timeouts that give transport.h's "behind" state.
$(BUILD)/tests/unit/test_client_iokit_match: $(BUILD)/tests/unit/test_client_iokit_match.o $(CLIENT_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_client_iokit_match

# The vfio-apple command's macOS host (cli/host-macos.c) over a faked
# vfa_iokit_list(): device names, DEVICE resolution, QEMU's host= values.
CLI_MACOS_TEST_OBJS := $(BUILD)/tests/unit/test_cli_host_macos.o $(BUILD)/cli/host-macos.o \
	$(filter-out $(BUILD)/cli/host-%.o,$(CLI_CORE_OBJS))
$(BUILD)/tests/unit/test_cli_host_macos: $(CLI_MACOS_TEST_OBJS) $(CLIENT_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka -lpthread -lm
UNIT_TESTS += $(BUILD)/tests/unit/test_cli_host_macos

# The IOKit transport's glue itself: the client library compiled for macOS
# (CONFIG_DARWIN, macos/sdk's declarations) and linked with the test's fake
# IOKit, dispatch and mach (test_client_iokit_glue.c).
IOKIT_GLUE_SRCS := client.c transport-iokit.c transport-socket.c iokit-match.c iokit-callq.c
IOKIT_GLUE_OBJS := $(patsubst %.c,$(BUILD)/tests/unit/iokit-glue/%.o,$(IOKIT_GLUE_SRCS))
IOKIT_GLUE_FLAGS := -DCONFIG_DARWIN -Iclient/compat -Imacos/sdk
$(BUILD)/tests/unit/iokit-glue/%.o: client/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(IOKIT_GLUE_FLAGS) -MMD -c -o $@ $<
$(BUILD)/tests/unit/test_client_iokit_glue.o: ALL_CFLAGS += $(IOKIT_GLUE_FLAGS)
$(BUILD)/tests/unit/test_client_iokit_glue: $(BUILD)/tests/unit/test_client_iokit_glue.o $(IOKIT_GLUE_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_client_iokit_glue
