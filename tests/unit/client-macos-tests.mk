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
