# cmocka tests of the simulator's device models (DART, NVMe).
MODEL_TEST_LIBS := -lcmocka -lpthread

$(BUILD)/tests/unit/test_dart: $(BUILD)/tests/unit/test_dart.o $(BUILD)/sim/dart.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(MODEL_TEST_LIBS)
UNIT_TESTS += $(BUILD)/tests/unit/test_dart
