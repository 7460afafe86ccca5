/*
 * retire - deferred frees for objects that coroutines may still read.
 *
 * A coroutine suspended in a cloud call keeps pointers into an informer's
 * store (its Service, the Nodes); a watch event handled meanwhile replaces
 * or deletes those objects. The store hands them here instead of freeing
 * them: an object retired while readers are active is freed once every
 * reader that entered before it was retired has left (readers that enter
 * later cannot see it: it is no longer in the store). With no reader
 * active, retire_obj frees at once.
 *
 * Ownership: retire_free frees every object still pending.
 */
#ifndef CCM_RETIRE_H
#define CCM_RETIRE_H

#include <stddef.h>
#include <stdint.h>

typedef void (*retire_fn)(void *ctx, void *obj);

struct retire;

int retire_new(struct retire **ret);
void retire_free(struct retire *r);
/* A reader starts: *ticket is for retire_leave. -ENOMEM: not tracked,
 * the reader must not start. */
int retire_enter(struct retire *r, uint64_t *ticket);
void retire_leave(struct retire *r, uint64_t ticket);
/* fn(ctx, obj) now or when no reader that could see obj remains; an
 * object that cannot be queued (out of memory) is kept alive (leaked)
 * rather than freed under a reader. */
void retire_obj(struct retire *r, retire_fn fn, void *ctx, void *obj);
size_t retire_pending(const struct retire *r);

#endif
