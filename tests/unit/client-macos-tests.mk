# cmocka tests of the IOKit transport's portable half (client/iokit-match.c,
# client/iokit-callq.c, in the client library): host-location parsing and
# choice (ambiguous BDFs across root ports), IOReturn meanings, cache modes,
# and the worker-thread timeouts that give transport.h's "behind" state.
$(BUILD)/tests/unit/test_client_iokit_match: $(BUILD)/tests/unit/test_client_iokit_match.o $(CLIENT_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_client_iokit_match
