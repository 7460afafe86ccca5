/*
 * sup_main - the supervisor side of the one executable.
 *
 * main() calls sup_main(cfg, argc, argv) when cfg->worker == NULL, and
 * wk_main(cfg) (workers/wk_main.h) otherwise. argv is the original command
 * line: each worker is /proc/self/exe --worker=NAME followed by it.
 *
 * Returns the process exit status: 0 after SIGTERM/SIGINT (Lease released)
 * or a finished --dry-run pass, 2 for a setup error the operator must fix
 * (run directory locked by another instance, socket path too long, lock
 * timeouts that leave no room for a call), 1 for other failures. cfg and
 * argv stay owned by the caller and must outlive the call.
 */
#ifndef CCM_SUP_MAIN_H
#define CCM_SUP_MAIN_H

struct cfg;

int sup_main(struct cfg *cfg, int argc, char **argv);

#endif
