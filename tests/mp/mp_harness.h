/*
 * The multi-process test harness: a real shmexd on a unique temporary
 * socket, and forked client processes, every one of them remembered by pid,
 * waited for with a bound and killed (by pid, SIGKILL) if a test fails, so
 * no process, socket or file outlives a test.
 */
#ifndef MP_HARNESS_H
#define MP_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

/** Nanoseconds on CLOCK_MONOTONIC. */
int64_t mp_now_ns(void);
void mp_sleep_ms(int ms);

#define MP_MS INT64_C(1000000)
#define MP_SEC INT64_C(1000000000)

/** One daemon started by a test. */
struct mp_daemon {
	pid_t pid;         /* 0: not running (or reaped) */
	int status;        /* waitpid status once reaped */
	char dir[64];      /* private temp directory (socket, config, log) */
	char sock[108];
	char config[128];
	char log[128];
};

/** The daemon's path: $SHMEXD (set by meson). */
const char *mp_shmexd_path(void);

/**
 * Starts shmexd --check-events on a new socket in a new temp directory,
 * with @p config_text written to a file (NULL: the built-in demo), and
 * waits (at most 10 s) until the socket accepts a connection.
 * @return 0, or -1 with a reason on stderr (the daemon is then stopped).
 */
int mp_daemon_start(struct mp_daemon *d, const char *config_text);

/**
 * SIGTERM, then waits up to @p timeout_ns for the exit (SIGKILL after it).
 * @return the exit status (0..255), 256 + signal if killed by a signal,
 *         -1 if it had to be killed by us or was not running.
 */
int mp_daemon_stop(struct mp_daemon *d, int64_t timeout_ns);

/** Waits up to @p timeout_ns for the daemon to exit by itself; returns as
 *  mp_daemon_stop() (-2: still running). */
int mp_daemon_wait(struct mp_daemon *d, int64_t timeout_ns);

/** Whether the daemon's log holds @p needle. */
int mp_daemon_log_has(const struct mp_daemon *d, const char *needle);

/** Waits up to @p timeout_ns until the log holds @p needle; 1 if it does. */
int mp_daemon_log_wait(const struct mp_daemon *d, const char *needle, int64_t timeout_ns);

/** Whether the log is free of sanitizer reports ("runtime error:",
 *  "Sanitizer") and journal violations (prints the first one found):
 *  a build whose sanitizers only warn would otherwise exit 0. */
int mp_daemon_log_clean(const struct mp_daemon *d);

/** Prints the daemon's log to stderr (after a failure). */
void mp_daemon_log_dump(const struct mp_daemon *d);

/** Kills the daemon if it still runs (SIGKILL), removes its files. Safe to
 *  call twice and on a daemon never started. */
void mp_daemon_cleanup(struct mp_daemon *d);

/**
 * The [grant] section giving this process's uid both roles on every user,
 * for config texts (static buffer).
 */
const char *mp_grant_all(void);

/* ---- client processes ------------------------------------------------------ */

/** Forks a child that runs fn(arg) and exits with its return value (never
 *  returns into the test runner). The pid is remembered for mp_kill_all(). */
pid_t mp_spawn(int (*fn)(void *arg), void *arg);

/**
 * Waits up to @p timeout_ns for child @p pid.
 * @return its exit status (0..255), 256 + signal if a signal ended it, or
 *         -1 on timeout (it is then killed and reaped).
 */
int mp_child_wait(pid_t pid, int64_t timeout_ns);

/** Kills (SIGKILL) and reaps every child still running. */
void mp_kill_all(void);

/** Memory shared with the children (MAP_SHARED anonymous), zeroed. */
void *mp_shared_alloc(size_t bytes);
void mp_shared_free(void *p, size_t bytes);

/** A pipe for "ready" and "stop" signals between parent and children. */
struct mp_pipe {
	int rd, wr;
};
int mp_pipe_open(struct mp_pipe *p);
void mp_pipe_close(struct mp_pipe *p);
/** Closes the write end only (children waiting on the read end see EOF). */
void mp_pipe_close_wr(struct mp_pipe *p);
/** Marks @p fd as the parent's only: children close it right after fork
 *  (the write end of a "stop" pipe, whose closing they wait for). */
void mp_parent_only(int fd);
/** Reads one byte within @p timeout_ns: 1, 0 on EOF, -1 on timeout. */
int mp_pipe_read_byte(int fd, int64_t timeout_ns);
/** Whether the pipe's write end is closed (EOF readable now). */
int mp_pipe_eof(int fd);

#endif /* MP_HARNESS_H */
