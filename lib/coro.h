/*
 * coro - stackful coroutines on one thread (ucontext), so a run of
 * synchronous-looking code (one Service's sync: a dozen dependent cloud
 * calls) can wait for the network without holding the event loop: the
 * wait yields, the loop runs other coroutines and events, and the wait's
 * completion resumes it.
 *
 * Single-threaded by design: coroutines switch only where they call
 * coro_yield, so state shared between them changes only across a yield.
 * Each has its own mmap'd stack with a guard page; pages untouched stay
 * unbacked. Under AddressSanitizer every switch is announced to it, so
 * the sanitizer follows the stacks.
 *
 * Ownership: coro_new's result is freed with coro_free once it has
 * finished (or was never resumed).
 */
#ifndef CCM_CORO_H
#define CCM_CORO_H

#include <stddef.h>

struct coro;

typedef void (*coro_fn)(void *arg);

/* stack: bytes, 0 for the default (256 KiB); a page is added as guard. */
int coro_new(coro_fn fn, void *arg, size_t stack, struct coro **ret);
void coro_free(struct coro *co);
/* Runs co until it yields or returns: 1 finished, 0 suspended, < 0 error
 * (resuming a finished coroutine, or from inside a coroutine). */
int coro_resume(struct coro *co);
/* From inside a coroutine: back to whoever resumed it. */
void coro_yield(void);
/* The running coroutine, NULL on the thread's own stack. */
struct coro *coro_self(void);
int coro_finished(const struct coro *co);

#endif
