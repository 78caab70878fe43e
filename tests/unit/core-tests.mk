# cmocka tests of the dext core over a fake platform.
CORE_TEST_FAKE := $(BUILD)/tests/unit/test_core_fake.o $(BUILD)/tests/unit/test_core_fixture.o

$(BUILD)/tests/unit/test_core: $(BUILD)/tests/unit/test_core.o $(CORE_TEST_FAKE) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka -lpthread
$(BUILD)/tests/unit/test_core_config: $(BUILD)/tests/unit/test_core_config.o $(CORE_TEST_FAKE) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka -lpthread
$(BUILD)/tests/unit/test_core_dma_irq: $(BUILD)/tests/unit/test_core_dma_irq.o $(CORE_TEST_FAKE) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka -lpthread
$(BUILD)/tests/unit/test_core_quirks: $(BUILD)/tests/unit/test_core_quirks.o $(CORE_TEST_FAKE) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka -lpthread

UNIT_TESTS += $(BUILD)/tests/unit/test_core $(BUILD)/tests/unit/test_core_config \
              $(BUILD)/tests/unit/test_core_dma_irq $(BUILD)/tests/unit/test_core_quirks
