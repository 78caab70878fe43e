# Device-side models of the simulator: the DART, the NVMe controller and the
# virtio-net loopback NIC, with the config-space pieces they share.
# The daemon's fragment (sim/sim.mk) links $(SIM_MODEL_OBJS) and -lpthread.
SIM_MODEL_SRCS := sim/dart.c sim/model-opts.c sim/pci-config.c sim/poll-thread.c $(sort $(wildcard sim/nvme*.c)) \
                  $(sort $(wildcard sim/virtio*.c))
SIM_MODEL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(SIM_MODEL_SRCS))
SIM_MODEL_LIBS := -lpthread
