/*
 * wk_fiber - several pieces of work in flight in one worker.
 *
 * A fiber is a coroutine (lib/coro) running a synchronous-looking job on
 * the worker's loop; its cloud calls go through wk_fibers_io, whose waits
 * yield: a transfer runs on a curl multi handle driven by the loop
 * (kube/kube_curlev), a rate or retry wait on a timer. While one fiber
 * waits, the loop serves watches, heartbeats and the other fibers. Code
 * outside a fiber (start-up, other workers) gets blocking behaviour from
 * the same hooks.
 *
 * A transfer is started by curl as it is handed over, so its timeout (which
 * the fence counted on when it allowed the request) runs from then.
 *
 * wk_fibers_stop cancels every wait (calls end with -ECANCELED) and runs
 * each fiber to its end, so jobs unwind and free what they hold before
 * the controller frees its caches.
 *
 * Ownership: struct wk_fibers is owned by its controller; it owns its
 * fibers. A job must not free the wk_fibers.
 */
#ifndef CCM_WK_FIBER_H
#define CCM_WK_FIBER_H

#include <stddef.h>

#include "alicloud/ali_client.h"

struct event_base;
struct wk_fibers;

int wk_fibers_new(struct event_base *base, struct wk_fibers **ret);
/* Stops (as wk_fibers_stop) and frees. */
void wk_fibers_free(struct wk_fibers *f);
/* Starts job(arg) in a new fiber; it runs until its first wait before
 * this returns. done(arg), if set, runs on the loop after it ended. */
int wk_fibers_spawn(struct wk_fibers *f, void (*job)(void *arg),
		    void (*done)(void *arg), void *arg);
size_t wk_fibers_running(const struct wk_fibers *f);
void wk_fibers_stop(struct wk_fibers *f);
/* The hooks for ali_client_set_io. */
struct ali_client_io wk_fibers_io(struct wk_fibers *f);

#endif
