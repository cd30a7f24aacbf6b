/**
 * @file control.h
 * @brief The control thread: the daemon's Unix socket (handshake, queries,
 *        administration), session hand-over to gateways, shutdown.
 */
#ifndef SX_ENGINE_CONTROL_H
#define SX_ENGINE_CONTROL_H

#include "engine.h"

/**
 * Listens on the configured socket and serves until SIGTERM or SIGINT
 * (blocked in every thread; read here through a signalfd), then drains:
 * every gateway answers what its clients had written, tells them
 * SHUTDOWN, and the function returns.
 * @param ready called once the socket listens (sd_notify), may be NULL
 * @return 0, or a negative code if the socket could not be set up (with a
 *         reason in @p err).
 */
int sx_control_run(struct sx_engine *e, void (*ready)(void), char *err, size_t cap);

#endif /* SX_ENGINE_CONTROL_H */
