/*
 * sup_rundir - the private run directory and the single-instance lock.
 *
 * The directory holds the bus sockets; it is created 0700 and refused when
 * another user owns it or others can write it. "<dir>/lock" is held with
 * flock for the process lifetime and records the holder's pid, so a second
 * supervisor on the same directory can name the first one.
 */
#include "supervisor/sup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

static int ensure_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return -EPERM;
	if ((st.st_mode & 077) != 0 && chmod(dir, 0700) < 0)
		return -errno;
	return 0;
}

static void holder_pid(int fd, char *out, size_t len)
{
	ssize_t n = pread(fd, out, len - 1, 0);

	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (!out[0])
		snprintf(out, len, "unknown");
}

int sup_rundir_lock(const char *dir, int *ret_fd)
{
	char path[4200], pid[32];
	int fd, r;

	*ret_fd = -1;
	r = ensure_dir(dir);
	if (r < 0) {
		log_error("--run-dir %s: %s", dir, strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_error("%s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		holder_pid(fd, pid, sizeof(pid));
		log_error("--run-dir %s is in use by another supervisor "
			  "(pid %s); use a different --run-dir",
			  dir, pid);
		close(fd);
		return r == -EWOULDBLOCK ? -EBUSY : r;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
		log_warn("%s: cannot record pid", path);
	*ret_fd = fd;
	return 0;
}
