/*
 * The raw hostile client (mp_raw.h).
 */
#include "mp_raw.h"

#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "mp_harness.h"
#include "shmex_control.h"

static int mp_raw_hello(struct mp_raw *r, const char *name)
{
	struct shmex_ctl_hello h;
	memset(&h, 0, sizeof h);
	h.h.magic = SHMEX_CTL_MAGIC;
	h.h.type = SHMEX_CTL_HELLO;
	h.h.len = sizeof h;
	h.version = SHMEX_SESSION_VERSION;
	h.layout_hash = shmex_session_layout_hash();
	snprintf(h.name, sizeof h.name, "%s", name);
	return send(r->fd, &h, sizeof h, MSG_NOSIGNAL) == (ssize_t)sizeof h ? 0 : -1;
}

static int mp_raw_welcome(struct mp_raw *r, struct shmex_ctl_welcome *w, int fds[2])
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} cb;
	struct iovec iov = { w, sizeof *w };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.buf,
			     .msg_controllen = sizeof cb.buf };
	struct pollfd p = { r->fd, POLLIN, 0 };
	if (poll(&p, 1, 5000) != 1)
		return -1;
	const ssize_t n = recvmsg(r->fd, &mh, MSG_CMSG_CLOEXEC);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (n != (ssize_t)sizeof *w || w->h.status != 0 || !cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(2 * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(cm), 2 * sizeof(int));
	return 0;
}

int mp_raw_connect(struct mp_raw *r, const char *sock, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	struct shmex_ctl_welcome w;
	int fds[2] = { -1, -1 };
	if (r->fd < 0 || connect(r->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    mp_raw_hello(r, name) != 0 || mp_raw_welcome(r, &w, fds) != 0) {
		fprintf(stderr, "mp raw %s: handshake failed (%s)\n", name, strerror(errno));
		mp_raw_close(r);
		return -1;
	}
	r->region_size = w.region_size;
	r->bells_size = w.bells_size;
	r->gateway = w.gateway;
	void *region = mmap(NULL, r->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	void *bells = mmap(NULL, r->bells_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0);
	close(fds[0]);
	close(fds[1]);
	r->region = region == MAP_FAILED ? NULL : region;
	r->bells = bells == MAP_FAILED ? NULL : bells;
	if (!r->region || !r->bells ||
	    shmex_session_layout_check(r->region, r->region_size, &r->layout) != 0 ||
	    shmex_session_ring_attach(&r->req, r->region, &r->layout.request) != 0 ||
	    (r->gateway + 1) * sizeof(struct shmex_bell) > r->bells_size) {
		fprintf(stderr, "mp raw %s: cannot map the session\n", name);
		mp_raw_close(r);
		return -1;
	}
	return 0;
}

void mp_raw_close(struct mp_raw *r)
{
	if (r->region)
		munmap(r->region, r->region_size);
	if (r->bells)
		munmap(r->bells, r->bells_size);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof *r);
	r->fd = -1;
}

struct shmex_ring_ctl *mp_raw_req_ctl(struct mp_raw *r)
{
	return (struct shmex_ring_ctl *)(void *)(r->region + r->layout.request.offset);
}

struct shmex_ring_ctl *mp_raw_resp_ctl(struct mp_raw *r)
{
	return (struct shmex_ring_ctl *)(void *)(r->region + r->layout.response.offset);
}

struct shmex_bell *mp_raw_gateway_bell(struct mp_raw *r)
{
	return (struct shmex_bell *)(void *)r->bells + r->gateway;
}

void mp_raw_ring_gateway(struct mp_raw *r)
{
	struct shmex_bell *b = mp_raw_gateway_bell(r);
	__atomic_fetch_add(&b->bell, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &b->bell, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int mp_raw_wait_closed(struct mp_raw *r, int64_t timeout_ns)
{
	const int64_t deadline = mp_now_ns() + timeout_ns;
	char buf[SHMEX_CTL_MAX];
	while (mp_now_ns() < deadline) {
		struct pollfd p = { r->fd, POLLIN | POLLRDHUP, 0 };
		if (poll(&p, 1, 10) <= 0)
			continue;
		const ssize_t n = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
	}
	return 0;
}
