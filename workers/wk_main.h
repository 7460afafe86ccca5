/*
 * wk_main - the worker side of the one executable.
 *
 * main() calls wk_main(cfg) when cfg->worker != NULL (the supervisor
 * re-executed /proc/self/exe with --worker=NAME). It returns the process
 * exit status: 0 after a clean stop, 1 on failure (restarted with
 * backoff), 2 or IPC_EXIT_CONFIG for a configuration the supervisor must
 * not retry. cfg stays owned by the caller.
 */
#ifndef CCM_WK_MAIN_H
#define CCM_WK_MAIN_H

struct cfg;
struct wk_controller;

int wk_main(struct cfg *cfg);
const struct wk_controller *wk_controller_find(const char *name);

#endif
