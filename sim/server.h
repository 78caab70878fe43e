/* vfio-apple-sim's socket server: the transport side of sim-wire.h. */
#ifndef VFIO_APPLE_SIM_SERVER_H
#define VFIO_APPLE_SIM_SERVER_H

#include "platform.h"

/*
 * Listens on `path` and serves until SIGINT/SIGTERM (blocked by the
 * caller and delivered through `sigfd`, a signalfd that also carries
 * SIGUSR1: device gone, and SIGUSR2: fault the device's next transfer).
 * Returns 0 on a clean stop, a negative errno if it could not listen.
 */
int sim_server_run(struct sim_platform *p, const char *path, int sigfd);

#endif
