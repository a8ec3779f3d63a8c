/* cp_mgmt.c - dpsec-ctld's management socket: a Unix stream socket, mode
 * 0660, for root and the configured group only (checked again per
 * connection with SO_PEERCRED). One request per connection, read with a
 * deadline so a slow or silent client cannot hold the daemon; bad framing
 * gets a clear error reply. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cp.h"
#include "cp_mgmt.h"

#define CLIENT_DEADLINE_MS 2000

int cp_mgmt_decode(char *body, size_t len, char **argv, const char **err)
{
	int argc = 0;
	size_t start = 0;

	if (len == 0 || body[len - 1] != '\0') {
		*err = len == 0 ? "empty request" : "request not NUL-terminated";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (body[i] != '\0')
			continue;
		if (i == start) {
			*err = "empty argument in request";
			return -1;
		}
		if (argc == CP_MGMT_MAX_ARGS) {
			*err = "too many arguments in request";
			return -1;
		}
		argv[argc++] = body + start;
		start = i + 1;
	}
	return argc;
}

static gid_t group_id(const char *group)
{
	struct group *g = group ? getgrnam(group) : NULL;

	return g ? g->gr_gid : (gid_t)-1;
}

int cp_mgmt_open(struct cp_ctx *c, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[sizeof(a.sun_path)], *slash;
	gid_t gid = group_id(c->o.group);

	if (c->o.group && gid == (gid_t)-1)
		return snprintf(err, errlen, "--group %s: no such group", c->o.group), -1;
	if (strlen(c->o.socket_path) >= sizeof(a.sun_path))
		return snprintf(err, errlen, "socket path too long: %s", c->o.socket_path), -1;
	strcpy(a.sun_path, c->o.socket_path);
	strcpy(dir, c->o.socket_path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0750); /* exists already: fine */
	}
	unlink(a.sun_path);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(a.sun_path, 0660) < 0 || (gid != (gid_t)-1 && chown(a.sun_path, 0, gid) < 0) ||
	    listen(c->listen_fd, 16) < 0)
		return snprintf(err, errlen, "socket %s: %s", a.sun_path, strerror(errno)), -1;
	return 0;
}

void cp_mgmt_close(struct cp_ctx *c)
{
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->o.socket_path);
	}
	c->listen_fd = -1;
}

/* root, or a member of the configured group (primary or supplementary). */
static bool allowed(const struct cp_ctx *c, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t gid = group_id(c->o.group), groups[64];
	int n = 64;
	struct passwd *pw;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	if (cr.uid == 0)
		return true;
	if (gid == (gid_t)-1)
		return false;
	if (cr.gid == gid)
		return true;
	pw = getpwuid(cr.uid);
	if (pw == NULL || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static int read_full(int fd, void *buf, size_t len, uint64_t deadline)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(deadline - cp_now_ns()) / 1000000;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void write_reply(int fd, int status, const char *text, size_t len)
{
	uint32_t h[2] = { htonl((uint32_t)status), htonl((uint32_t)len) };
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	const char *parts[2] = { (const char *)h, text };
	size_t lens[2] = { sizeof(h), len };
	uint64_t deadline = cp_now_ns() + CLIENT_DEADLINE_MS * 1000000ull;

	for (int k = 0; k < 2; k++)
		for (size_t off = 0; off < lens[k];) {
			ssize_t n = write(fd, parts[k] + off, lens[k] - off);

			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			if (n < 0 && errno != EAGAIN)
				return;
			if (cp_now_ns() > deadline || poll(&p, 1, 100) < 0)
				return; /* the client stopped reading */
		}
}

static void reply_text(int fd, int status, const char *msg)
{
	write_reply(fd, status, msg, strlen(msg));
}

static void serve(struct cp_ctx *c, int fd)
{
	uint64_t deadline = cp_now_ns() + CLIENT_DEADLINE_MS * 1000000ull;
	char *argv[CP_MGMT_MAX_ARGS], *body = NULL, *out = NULL;
	const char *err;
	uint32_t len;
	size_t out_len = 0;
	int argc, status;

	if (!allowed(c, fd)) {
		cp_log(LOG_WARNING, "management request refused: not root or in the configured group");
		reply_text(fd, 1, "permission denied: dpsecctl needs root or the dpsec-ctld group\n");
		return;
	}
	if (read_full(fd, &len, sizeof(len), deadline) < 0)
		return;
	len = ntohl(len);
	if (len == 0 || len > CP_MGMT_MAX_REQUEST) {
		reply_text(fd, 2, "request length out of range (1..65536 bytes)\n");
		return;
	}
	body = malloc(len);
	if (body == NULL || read_full(fd, body, len, deadline) < 0) {
		free(body);
		return;
	}
	argc = cp_mgmt_decode(body, len, argv, &err);
	if (argc < 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "bad request: %s\n", err);
		reply_text(fd, 2, msg);
	} else {
		status = cp_cli_run(c, argc, argv, &out, &out_len);
		write_reply(fd, status, out ? out : "", out_len);
	}
	explicit_bzero(body, len); /* may hold a key given to sa add */
	free(body);
	free(out);
}

void cp_mgmt_poll(struct cp_ctx *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->listen_fd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) <= 0)
		return;
	for (int i = 0; i < 16; i++) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		serve(c, fd);
		close(fd);
	}
}
