# Device-side models of the simulator: the DART and the NVMe controller.
# The daemon's fragment (sim/sim.mk) links $(SIM_MODEL_OBJS) and -lpthread.
SIM_MODEL_SRCS := sim/dart.c $(sort $(wildcard sim/nvme*.c))
SIM_MODEL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(SIM_MODEL_SRCS))
SIM_MODEL_LIBS := -lpthread
