# cmocka tests of the vfio-apple command's portable core (cli/): option
# parsing, DMA mode choice, command-line construction, report formatting.
CLI_TESTS := test_cli_args test_cli_mode test_cli_cmdline test_cli_report

$(foreach t,$(CLI_TESTS),$(eval \
$(BUILD)/tests/unit/$(t): $(BUILD)/tests/unit/$(t).o $$(CLI_CORE_OBJS) $(BUILD)/client/libvfa-client.a ; \
	$$(CC) $$(ALL_CFLAGS) -o $$@ $$^ -lcmocka -lpthread -lm))
UNIT_TESTS += $(patsubst %,$(BUILD)/tests/unit/%,$(CLI_TESTS))
