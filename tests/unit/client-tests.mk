# cmocka tests of the client library (the code QEMU compiles in), over the
# real socket transport against a scripted fake dext.
$(BUILD)/tests/unit/test_client: $(BUILD)/tests/unit/test_client.o $(CLIENT_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka -lpthread
UNIT_TESTS += $(BUILD)/tests/unit/test_client
