/*
 * The multi-process test harness (mp_harness.h): the daemon and the child
 * processes of one test, each with bounded waits.
 */
#include "mp_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MP_MAX_CHILDREN 64

int64_t mp_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void mp_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const char *mp_shmexd_path(void)
{
	const char *p = getenv("SHMEXD");
	return p && p[0] ? p : "shmexd";
}

const char *mp_grant_all(void)
{
	static char text[96];
	snprintf(text, sizeof text, "[grant]\nuid = %u\nusers = *\nroles = trader,admin\n",
		 (unsigned)getuid());
	return text;
}

/* ---- waiting for processes ---------------------------------------------------- */

/* waitpid with a deadline: the status, or -1 (still running at the deadline). */
static int mp_reap(pid_t pid, int64_t timeout_ns, int *status)
{
	const int64_t deadline = mp_now_ns() + timeout_ns;
	for (;;) {
		const pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -2; /* not our child (already reaped) */
		if (mp_now_ns() >= deadline)
			return -1;
		mp_sleep_ms(2);
	}
}

static int mp_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 256 + WTERMSIG(status);
	return -1;
}

/* ---- the daemon ------------------------------------------------------------- */

static int mp_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	const size_t n = strlen(text);
	const int ok = fwrite(text, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Whether the socket accepts a connection (the connection is closed at
 * once: the daemon frees a slot that never said HELLO). */
static int mp_socket_accepts(const char *path)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	const int ok = connect(fd, (const struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

int mp_daemon_start(struct mp_daemon *d, const char *config_text)
{
	memset(d, 0, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "/tmp/shmex-mp.XXXXXX");
	if (!mkdtemp(d->dir)) {
		fprintf(stderr, "mp: mkdtemp: %s\n", strerror(errno));
		d->dir[0] = 0;
		return -1;
	}
	snprintf(d->sock, sizeof d->sock, "%s/sock", d->dir);
	snprintf(d->config, sizeof d->config, "%s/shmexd.ini", d->dir);
	snprintf(d->log, sizeof d->log, "%s/shmexd.log", d->dir);
	if (config_text && mp_write_file(d->config, config_text) != 0) {
		fprintf(stderr, "mp: cannot write %s\n", d->config);
		return -1;
	}
	char data[96];
	snprintf(data, sizeof data, "%s/data", d->dir);
	const pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "mp: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* If the test runner dies (a meson timeout), so does its daemon. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		const int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		const char *exe = mp_shmexd_path();
		if (config_text)
			execl(exe, exe, "--socket", d->sock, "--data", data, "--check-events",
			      "--config", d->config, (char *)NULL);
		else
			execl(exe, exe, "--socket", d->sock, "--data", data, "--check-events",
			      (char *)NULL);
		fprintf(stderr, "mp: exec %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	d->pid = pid;
	const int64_t deadline = mp_now_ns() + 10 * MP_SEC;
	while (mp_now_ns() < deadline) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			d->status = status;
			fprintf(stderr, "mp: shmexd exited at start (status %d)\n", mp_exit_code(status));
			mp_daemon_log_dump(d);
			return -1;
		}
		if (mp_socket_accepts(d->sock))
			return 0;
		mp_sleep_ms(5);
	}
	fprintf(stderr, "mp: shmexd did not accept on %s within 10 s\n", d->sock);
	mp_daemon_log_dump(d);
	mp_daemon_cleanup(d);
	return -1;
}

int mp_daemon_wait(struct mp_daemon *d, int64_t timeout_ns)
{
	if (d->pid <= 0)
		return -1;
	int status;
	const int r = mp_reap(d->pid, timeout_ns, &status);
	if (r == -1)
		return -2;
	d->pid = 0;
	if (r != 0)
		return -1;
	d->status = status;
	return mp_exit_code(status);
}

int mp_daemon_stop(struct mp_daemon *d, int64_t timeout_ns)
{
	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	const int rc = mp_daemon_wait(d, timeout_ns);
	if (rc != -2)
		return rc;
	fprintf(stderr, "mp: shmexd pid %d did not stop within the bound: SIGKILL\n", (int)d->pid);
	kill(d->pid, SIGKILL);
	int status;
	mp_reap(d->pid, 5 * MP_SEC, &status);
	d->pid = 0;
	return -1;
}

int mp_daemon_log_has(const struct mp_daemon *d, const char *needle)
{
	FILE *f = fopen(d->log, "r");
	if (!f)
		return 0;
	char line[1024];
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

int mp_daemon_log_wait(const struct mp_daemon *d, const char *needle, int64_t timeout_ns)
{
	const int64_t deadline = mp_now_ns() + timeout_ns;
	for (;;) {
		if (mp_daemon_log_has(d, needle))
			return 1;
		if (mp_now_ns() >= deadline)
			return 0;
		mp_sleep_ms(5);
	}
}

int mp_daemon_log_clean(const struct mp_daemon *d)
{
	static const char *const bad[] = { "runtime error:", "Sanitizer", "journal: event" };
	FILE *f = fopen(d->log, "r");
	if (!f)
		return 0;
	char line[1024];
	int clean = 1;
	while (clean && fgets(line, sizeof line, f))
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
			if (strstr(line, bad[i])) {
				fprintf(stderr, "mp: shmexd log: %s", line);
				clean = 0;
				break;
			}
	fclose(f);
	return clean;
}

void mp_daemon_log_dump(const struct mp_daemon *d)
{
	FILE *f = fopen(d->log, "r");
	if (!f)
		return;
	char line[1024];
	fprintf(stderr, "---- %s ----\n", d->log);
	while (fgets(line, sizeof line, f))
		fputs(line, stderr);
	fprintf(stderr, "----\n");
	fclose(f);
}

void mp_daemon_cleanup(struct mp_daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		int status;
		mp_reap(d->pid, 5 * MP_SEC, &status);
		d->pid = 0;
	}
	if (!d->dir[0])
		return;
	unlink(d->sock);
	unlink(d->config);
	unlink(d->log);
	char data[96];
	snprintf(data, sizeof data, "%s/data", d->dir);
	rmdir(data);
	rmdir(d->dir);
	d->dir[0] = 0;
}

/* ---- children ------------------------------------------------------------------ */

static pid_t mp_children[MP_MAX_CHILDREN];
static pid_t mp_parent;
static int mp_parent_fds[MP_MAX_CHILDREN];

void mp_parent_only(int fd)
{
	for (int i = 0; i < MP_MAX_CHILDREN; i++)
		if (mp_parent_fds[i] <= 0) {
			mp_parent_fds[i] = fd + 1; /* 0 marks a free entry */
			return;
		}
}

static void mp_parent_only_forget(int fd)
{
	for (int i = 0; i < MP_MAX_CHILDREN; i++)
		if (mp_parent_fds[i] == fd + 1)
			mp_parent_fds[i] = 0;
}

pid_t mp_spawn(int (*fn)(void *arg), void *arg)
{
	fflush(stdout);
	fflush(stderr);
	if (!mp_parent)
		mp_parent = getpid();
	const pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (int i = 0; i < MP_MAX_CHILDREN; i++)
			if (mp_parent_fds[i] > 0)
				close(mp_parent_fds[i] - 1);
		/* Never back into cmocka's runner; _exit skips the parent's
		 * atexit handlers (they are the parent's to run). */
		const int rc = fn(arg);
		fflush(stdout);
		fflush(stderr);
		_exit(rc & 0xff);
	}
	for (int i = 0; i < MP_MAX_CHILDREN; i++)
		if (mp_children[i] == 0) {
			mp_children[i] = pid;
			break;
		}
	return pid;
}

static void mp_forget(pid_t pid)
{
	for (int i = 0; i < MP_MAX_CHILDREN; i++)
		if (mp_children[i] == pid)
			mp_children[i] = 0;
}

int mp_child_wait(pid_t pid, int64_t timeout_ns)
{
	int status;
	const int r = mp_reap(pid, timeout_ns, &status);
	if (r == -1) {
		fprintf(stderr, "mp: child %d still running after the bound: SIGKILL\n", (int)pid);
		kill(pid, SIGKILL);
		mp_reap(pid, 5 * MP_SEC, &status);
		mp_forget(pid);
		return -1;
	}
	mp_forget(pid);
	return r == 0 ? mp_exit_code(status) : -1;
}

void mp_kill_all(void)
{
	if (mp_parent && getpid() != mp_parent)
		return;
	for (int i = 0; i < MP_MAX_CHILDREN; i++)
		if (mp_children[i] > 0) {
			int status;
			kill(mp_children[i], SIGKILL);
			mp_reap(mp_children[i], 5 * MP_SEC, &status);
			mp_children[i] = 0;
		}
}

void *mp_shared_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void mp_shared_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

int mp_pipe_open(struct mp_pipe *p)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	p->rd = fds[0];
	p->wr = fds[1];
	return 0;
}

void mp_pipe_close(struct mp_pipe *p)
{
	if (p->rd >= 0)
		close(p->rd);
	if (p->wr >= 0) {
		mp_parent_only_forget(p->wr);
		close(p->wr);
	}
	p->rd = p->wr = -1;
}

void mp_pipe_close_wr(struct mp_pipe *p)
{
	if (p->wr >= 0) {
		mp_parent_only_forget(p->wr);
		close(p->wr);
	}
	p->wr = -1;
}

int mp_pipe_read_byte(int fd, int64_t timeout_ns)
{
	const int64_t deadline = mp_now_ns() + timeout_ns;
	for (;;) {
		const int64_t left = deadline - mp_now_ns();
		if (left <= 0)
			return -1;
		struct pollfd p = { fd, POLLIN, 0 };
		const int k = poll(&p, 1, (int)((left + 999999) / 1000000));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			continue;
		char c;
		const ssize_t n = read(fd, &c, 1);
		if (n == 1)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR && errno != EAGAIN)
			return 0;
	}
}

int mp_pipe_eof(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, 0) <= 0)
		return 0;
	char c;
	return read(fd, &c, 1) == 0;
}
