#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int verbosity;
static char role[32];

void log_set_verbosity(int v)
{
	verbosity = v;
}

int log_verbosity(void)
{
	return verbosity;
}

void log_set_role(const char *r)
{
	snprintf(role, sizeof(role), "%s", r ? r : "");
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

void log_emit(enum log_sev sev, const char *file, int line, const char *fmt,
	      ...)
{
	static const char sevc[] = "IWEF";
	char msg[4096];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent processes do not interleave. */
	fprintf(stderr, "%c%02d%02d %02d:%02d:%02d.%06ld %7d %s:%d] %s%s%s\n",
		sevc[sev], tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		tm.tm_sec, (long)tv.tv_usec, (int)getpid(), base_name(file),
		line, role[0] ? role : "", role[0] ? ": " : "", msg);
}
