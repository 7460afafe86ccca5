/*
 * log - Kubernetes (klog) style lines on stderr.
 *
 *   I1126 19:21:00.123456    4242 file.c:42] message
 *
 * Levels: log_info/log_warn/log_error always print; log_v(n, ...) prints
 * only when the verbosity set by -v/--v is at least n. A process role
 * ("supervisor", "worker/route") can be set so interleaved lines from the
 * supervisor and its workers stay readable. Library modules log at
 * verbosity >= 4 only; top-level loops report errors.
 *
 * Nothing here redacts: callers must never pass secrets.
 */
#ifndef CCM_LOG_H
#define CCM_LOG_H

enum log_sev { LOG_SEV_INFO = 0, LOG_SEV_WARN, LOG_SEV_ERROR, LOG_SEV_FATAL };

void log_set_verbosity(int v);
int log_verbosity(void);
void log_set_role(const char *role);

void log_emit(enum log_sev sev, const char *file, int line, const char *fmt,
	      ...) __attribute__((format(printf, 4, 5)));

#define log_info(...)  log_emit(LOG_SEV_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_SEV_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_error(...) log_emit(LOG_SEV_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_v(n, ...)                                                          \
	do {                                                                   \
		if (log_verbosity() >= (n))                                    \
			log_emit(LOG_SEV_INFO, __FILE__, __LINE__,             \
				 __VA_ARGS__);                                 \
	} while (0)

#endif
