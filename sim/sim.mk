# vfio-apple-sim: the daemon (server, platform ops, stats, main) linked with
# the dext core, the client library (for `stats`) and the device models.
SIM_DAEMON_SRCS := sim/main.c sim/server.c sim/platform.c sim/stats.c sim/log.c
SIM_DAEMON_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(SIM_DAEMON_SRCS))

$(BUILD)/vfio-apple-sim: $(SIM_DAEMON_OBJS) $(SIM_MODEL_OBJS) $(CORE_LIB) $(CLIENT_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(SIM_MODEL_LIBS) -lpthread

BINS += $(BUILD)/vfio-apple-sim
