/* dpsecctl.c - the administrator's tool: sends its arguments to dpsec-ctld
 * over the management socket and prints the reply (exit 0 ok, 1 refused,
 * 2 bad usage or no dpsec-ctld). "show stats", "show neighbours" and
 * "show ports" also work without dpsec-ctld: the Quick Mode table, the
 * neighbours and the ports are then read straight from dpsecd's
 * shared-memory segment (read-only), the Main Mode table is not there. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cp_mgmt.h"
#include "cp_show.h"

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static int write_all(int fd, const void *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = read(fd, (char *)buf + off, len - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int request(int fd, int argc, char **argv)
{
	uint32_t len = 0, h[2], n;
	char *text;

	for (int i = 0; i < argc; i++)
		len += (uint32_t)strlen(argv[i]) + 1;
	if (argc > CP_MGMT_MAX_ARGS || len > CP_MGMT_MAX_REQUEST) {
		fprintf(stderr, "dpsecctl: request too long\n");
		return 2;
	}
	n = htonl(len);
	/* a refused request may be answered before it is all written: a failed
	 * write still lets the answer be read */
	if (write_all(fd, &n, sizeof(n)) == 0)
		for (int i = 0; i < argc; i++)
			if (write_all(fd, argv[i], strlen(argv[i]) + 1) < 0)
				break;
	if (read_all(fd, h, sizeof(h)) < 0 || ntohl(h[1]) > CP_MGMT_MAX_REPLY)
		goto broken;
	len = ntohl(h[1]);
	text = malloc(len + 1);
	if (text == NULL || read_all(fd, text, len) < 0) {
		free(text);
		goto broken;
	}
	fwrite(text, 1, len, ntohl(h[0]) == 0 ? stdout : stderr);
	free(text);
	return (int)ntohl(h[0]);
broken:
	fprintf(stderr, "dpsecctl: dpsec-ctld closed the connection without a reply\n");
	return 2;
}

/* Why the segment open as fd, whose header is h, cannot be read, or NULL:
 * it can. */
static const char *segment_problem(int fd, struct dpsec_shm_hdr *h)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0 || pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
		return "shorter than a segment header";
	if (h->magic != DPSEC_SHM_MAGIC)
		return "not a dpsec segment";
	if (h->layout != DPSEC_SHM_LAYOUT)
		return "another segment layout: dpsecd and dpsecctl come from different builds";
	if (!dpsec_shm_areas_fit(h, (uint64_t)sb.st_size))
		return "its size or areas do not match its header";
	return NULL;
}

/* The segment of instance mapped read-only (its header in *h), or NULL
 * with the reason printed. */
static void *map_segment(const char *instance, struct dpsec_shm_hdr *h)
{
	char name[64];
	const char *problem;
	void *base;
	int fd;

	snprintf(name, sizeof(name), DPSEC_SHM_PREFIX "%s", instance);
	fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "dpsecctl: dpsec-ctld is not running, and no dpsecd segment %s to "
			"read: %s\n", name, strerror(errno));
		return NULL;
	}
	problem = segment_problem(fd, h);
	if (problem != NULL) {
		close(fd);
		fprintf(stderr, "dpsecctl: dpsec-ctld is not running, and segment %s cannot be read: "
			"%s\n", name, problem);
		return NULL;
	}
	base = mmap(NULL, h->size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		fprintf(stderr, "dpsecctl: cannot map %s\n", name);
		return NULL;
	}
	return base;
}

/* show stats, neighbours or ports (what) from the segment itself:
 * dpsec-ctld is not running. */
static int show_from_segment(const char *instance, const char *what, bool json, bool all)
{
	struct dpsec_shm_hdr h;
	struct dpsec_shm_stats st;
	struct cp_out o = { .json = json };
	uint8_t *base = map_segment(instance, &h);
	int rc = 0;

	if (base == NULL)
		return 2;
	if (!json)
		fprintf(stderr, "dpsecctl: dpsec-ctld is not running; read from dpsecd\n");
	if (strcmp(what, "neighbours") == 0)
		cp_show_neighbour_table(&o, (const struct dpsec_shm_neighs *)(base + h.neigh_off));
	else if (strcmp(what, "ports") == 0)
		cp_show_port_table(&o, (const struct dpsec_shm_ports *)(base + h.ports_off));
	else if (dpsec_shm_stats_read((const struct dpsec_shm_stats *)(base + h.stats_off), &st,
				      1000))
		cp_show_stats(&o, NULL, NULL, &st, 0, all);
	else
		rc = 2;
	if (rc != 0)
		fprintf(stderr, "dpsecctl: cannot read the statistics of instance %s\n", instance);
	else if (json)
		cp_out_printf(&o, "\n");
	fwrite(o.buf, 1, o.len, stdout);
	cp_out_free(&o);
	munmap(base, h.size);
	return rc;
}

static bool has_arg(int argc, char **argv, const char *a)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], a) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const char *instance = "rte", *sock = NULL;
	char path[128];
	int i = 1, fd;

	signal(SIGPIPE, SIG_IGN);
	for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
		if (strcmp(argv[i], "--instance") == 0)
			instance = argv[i + 1];
		else if (strcmp(argv[i], "--socket") == 0)
			sock = argv[i + 1];
		else
			break;
	}
	if (i >= argc || argv[i][0] == '-') {
		fprintf(stderr, "usage: dpsecctl [--instance NAME | --socket PATH] COMMAND...\n"
				"       dpsecctl show help  (the commands)\n");
		return 2;
	}
	if (sock == NULL) {
		snprintf(path, sizeof(path), "/run/dpsec/ctld.%s.sock", instance);
		sock = path;
	}
	fd = connect_to(sock);
	if (fd < 0) {
		if (argc - i >= 2 && strcmp(argv[i], "show") == 0 &&
		    (strcmp(argv[i + 1], "stats") == 0 || strcmp(argv[i + 1], "neighbours") == 0 ||
		     strcmp(argv[i + 1], "ports") == 0))
			return show_from_segment(instance, argv[i + 1], has_arg(argc, argv, "--json"),
						 has_arg(argc, argv, "--all"));
		fprintf(stderr, "dpsecctl: cannot reach dpsec-ctld at %s: %s\n", sock,
			errno == EACCES ? "permission denied (root or the dpsec-ctld group)" :
					  "it is not running");
		return 2;
	}
	i = request(fd, argc - i, argv + i);
	close(fd);
	return i;
}
