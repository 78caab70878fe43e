# cmocka tests of the simulator's device models (DART, NVMe, virtio-net).
MODEL_TEST_LIBS := -lcmocka -lpthread

$(BUILD)/tests/unit/test_dart: $(BUILD)/tests/unit/test_dart.o $(BUILD)/sim/dart.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MODEL_TEST_LIBS)
UNIT_TESTS += $(BUILD)/tests/unit/test_dart

$(BUILD)/tests/unit/test_nvme_prp: $(BUILD)/tests/unit/test_nvme_prp.o $(BUILD)/sim/nvme-prp.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MODEL_TEST_LIBS)
UNIT_TESTS += $(BUILD)/tests/unit/test_nvme_prp

$(BUILD)/tests/unit/test_nvme: $(BUILD)/tests/unit/test_nvme.o $(SIM_MODEL_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MODEL_TEST_LIBS)
UNIT_TESTS += $(BUILD)/tests/unit/test_nvme

$(BUILD)/tests/unit/test_virtio_net: $(BUILD)/tests/unit/test_virtio_net.o $(SIM_MODEL_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MODEL_TEST_LIBS)
UNIT_TESTS += $(BUILD)/tests/unit/test_virtio_net
