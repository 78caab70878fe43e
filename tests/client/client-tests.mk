# The C test client for a running vfio-apple-sim (tests/client/run.sh).
TEST_CLIENT_SRCS := tests/client/test_client.c tests/client/nvme_drv.c
TEST_CLIENT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TEST_CLIENT_SRCS))

$(BUILD)/tests/client/vfa-test-client: $(TEST_CLIENT_OBJS) $(CLIENT_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lpthread

BINS += $(BUILD)/tests/client/vfa-test-client
