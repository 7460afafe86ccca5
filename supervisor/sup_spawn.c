/*
 * sup_spawn - birth of one worker: socketpair, fork, exec /proc/self/exe.
 *
 * Everything the child needs (argv, envp) is built before fork; between
 * fork and exec the child only calls async-signal-safe functions: it moves
 * its end of the status channel to IPC_STATUS_FD, closes every other
 * descriptor above it and restores default signal handling. nanomsg and
 * libevent state is never used in the child (neither is fork-safe): the
 * worker builds its own after exec.
 */
#include "supervisor/sup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/cfg.h"
#include "ipc/ipc_proto.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "supervisor/sup_fds.h"

extern char **environ;

struct spawn_args {
	char **argv;
	char **envp;
	char arg0[64], argw[64], envpid[48], envid[300];
	int max_fd; /* highest descriptor the fallback close loop tries */
	char argcc[4300];
};

static int build_args(struct sup *s, struct sup_worker *w, struct spawn_args *a)
{
	size_t n = 0, k = 0;

	struct rlimit rl;

	a->max_fd = 65535;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1u << 20))
		a->max_fd = (int)rl.rlim_cur - 1;
	snprintf(a->arg0, sizeof(a->arg0), "ccm-worker:%s", w->name);
	snprintf(a->argw, sizeof(a->argw), "--worker=%s", w->name);
	snprintf(a->envpid, sizeof(a->envpid), "%s=%d", IPC_ENV_PARENT,
		 (int)getpid());
	snprintf(a->envid, sizeof(a->envid), "%s=%s", IPC_ENV_IDENTITY,
		 s->identity);
	a->argv = calloc((size_t)s->argc + 3, sizeof(char *));
	while (environ && environ[n])
		n++;
	a->envp = calloc(n + 3, sizeof(char *));
	if (a->argv == NULL || a->envp == NULL)
		return -ENOMEM;
	a->argv[0] = a->arg0;
	a->argv[1] = a->argw;
	for (int i = 1; i < s->argc; i++)
		a->argv[i + 1] = s->argv[i];
	/* last wins: the worker reads the accepted snapshot (sup_reload.c) */
	if (sup_reload_snapshot(s)) {
		snprintf(a->argcc, sizeof(a->argcc), "--cloud-config=%s",
			 sup_reload_snapshot(s));
		a->argv[s->argc + 1] = a->argcc;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CCM_SUPERVISOR_PID=", 19) != 0 &&
		    strncmp(environ[i], "CCM_IDENTITY=", 13) != 0)
			a->envp[k++] = environ[i];
	a->envp[k++] = a->envpid;
	a->envp[k] = a->envid;
	return 0;
}

/* Runs in the child between fork and exec: async-signal-safe only. */
static void __attribute__((noreturn)) child(int fd, struct spawn_args *a)
{
	sigset_t none;

	if (fd == IPC_STATUS_FD)
		(void)fcntl(fd, F_SETFD, 0);
	else if (dup2(fd, IPC_STATUS_FD) < 0)
		_exit(127);
	sup_fds_close_above(IPC_STATUS_FD, a->max_fd);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	execve("/proc/self/exe", a->argv, a->envp);
	_exit(127);
}

static int initial_records(struct sup *s, struct sup_worker *w)
{
	struct ipc_msg m;
	int r;

	sup_worker_send_lease(s, w);
	sup_worker_send_token(s, w);
	memset(&m, 0, sizeof(m));
	m.kind = IPC_START;
	r = ipc_send(w->fd, &m);
	return r;
}

int sup_spawn(struct sup *s, struct sup_worker *w)
{
	struct spawn_args a;
	int sv[2], r;
	pid_t pid;

	memset(&a, 0, sizeof(a));
	r = build_args(s, w, &a);
	if (r < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid == 0)
		child(sv[1], &a);
	r = pid < 0 ? -errno : 0;
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		goto out;
	}
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	w->pid = pid;
	w->fd = sv[0];
	w->started_ms = w->last_hb_ms = w->last_start_ms = clock_mono_ms();
	w->ready = 0;
	w->state = WS_UP;
	log_info("started worker %s (pid %d)", w->name, (int)pid);
	r = initial_records(s, w);
	if (r < 0)
		log_warn("worker %s: initial records: %s", w->name,
			 strerror(-r));
	r = 0;
out:
	free(a.argv);
	free(a.envp);
	return r;
}
