#include "lib/coro.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif

#ifdef CORO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define CORO_STACK_DEFAULT ((size_t)256 * 1024)

struct coro {
	ucontext_t uc, caller;
	coro_fn fn;
	void *arg;
	void *map; /* guard page + stack */
	size_t map_len;
	int started, finished;
	/* sanitizer bookkeeping: the stack we return to, our fake stack */
	const void *caller_bottom;
	size_t caller_size;
	void *fake;
};

static struct coro *current;
/* makecontext passes ints only: the starting coroutine goes through here */
static struct coro *starting;

static void switch_begin(void **fake, const void *bottom, size_t size)
{
#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(fake, bottom, size);
#else
	(void)fake;
	(void)bottom;
	(void)size;
#endif
}

static void switch_end(void *fake, const void **bottom, size_t *size)
{
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(fake, bottom, size);
#else
	(void)fake;
	(void)bottom;
	(void)size;
#endif
}

static void trampoline(void)
{
	struct coro *co = starting;

	starting = NULL;
	switch_end(NULL, &co->caller_bottom, &co->caller_size);
	co->fn(co->arg);
	co->finished = 1;
	/* NULL fake-stack slot: this stack is never entered again */
	switch_begin(NULL, co->caller_bottom, co->caller_size);
	swapcontext(&co->uc, &co->caller);
}

int coro_new(coro_fn fn, void *arg, size_t stack, struct coro **ret)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct coro *co;

	*ret = NULL;
	if (!fn)
		return -EINVAL;
	if (stack == 0)
		stack = CORO_STACK_DEFAULT;
	stack = (stack + page - 1) / page * page;
	co = calloc(1, sizeof(*co));
	if (!co)
		return -ENOMEM;
	co->map_len = stack + page;
	co->map = mmap(NULL, co->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
		       -1, 0);
	if (co->map == MAP_FAILED) {
		free(co);
		return -ENOMEM;
	}
	/* stacks grow down: an overflow hits the guard, not a neighbour */
	if (mprotect(co->map, page, PROT_NONE) < 0 || getcontext(&co->uc) < 0) {
		munmap(co->map, co->map_len);
		free(co);
		return -errno;
	}
	co->uc.uc_stack.ss_sp = (char *)co->map + page;
	co->uc.uc_stack.ss_size = stack;
	co->uc.uc_link = NULL;
	makecontext(&co->uc, trampoline, 0);
	co->fn = fn;
	co->arg = arg;
	*ret = co;
	return 0;
}

void coro_free(struct coro *co)
{
	if (!co)
		return;
	munmap(co->map, co->map_len);
	free(co);
}

int coro_resume(struct coro *co)
{
	void *fake = NULL;

	if (!co || co->finished || current)
		return -EINVAL;
	if (!co->started) {
		co->started = 1;
		starting = co; /* the trampoline picks it up */
	}
	current = co;
	switch_begin(&fake, co->uc.uc_stack.ss_sp, co->uc.uc_stack.ss_size);
	swapcontext(&co->caller, &co->uc);
	switch_end(fake, NULL, NULL);
	current = NULL;
	return co->finished;
}

void coro_yield(void)
{
	struct coro *co = current;

	if (!co)
		return;
	switch_begin(&co->fake, co->caller_bottom, co->caller_size);
	swapcontext(&co->uc, &co->caller);
	switch_end(co->fake, &co->caller_bottom, &co->caller_size);
}

struct coro *coro_self(void)
{
	return current;
}

int coro_finished(const struct coro *co)
{
	return co ? co->finished : 1;
}
