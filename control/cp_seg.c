/* cp_seg.c - attaching to the segment of a dpsecd: the header checked
 * (magic, layout, message version, size: each refusal says which), the
 * whole segment mapped, an exclusive lock taken (one control plane per
 * instance), and noticing when the instance's name maps a new segment
 * (dpsecd restarted) or none. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp.h"

static int check_header(const struct dpsec_shm_hdr *h, size_t file_size, char *err, size_t errlen)
{
	if (h->magic != DPSEC_SHM_MAGIC)
		snprintf(err, errlen, "not a dpsec segment (magic %#llx)", (unsigned long long)h->magic);
	else if (h->layout != DPSEC_SHM_LAYOUT || h->msg_version != DPSEC_MSG_VERSION)
		snprintf(err, errlen, "segment layout %u / messages %u, this dpsec-ctld speaks %u / %u: "
			 "dpsecd and dpsec-ctld come from different builds", h->layout, h->msg_version,
			 DPSEC_SHM_LAYOUT, DPSEC_MSG_VERSION);
	else if (!dpsec_shm_areas_fit(h, file_size))
		snprintf(err, errlen, "segment size %zu does not match its header", file_size);
	else if (!atomic_load(&h->ready))
		snprintf(err, errlen, "dpsecd is still starting");
	else
		return 0;
	return -1;
}

static int map_all(struct cp_seg *s, size_t size, char *err, size_t errlen)
{
	struct dpsec_shm_hdr *h;

	s->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->base == MAP_FAILED) {
		s->base = NULL;
		snprintf(err, errlen, "mmap: %s", strerror(errno));
		return -1;
	}
	s->size = size;
	h = s->hdr = s->base;
	if (check_header(h, size, err, errlen) < 0)
		return -1;
	s->generation = h->generation;
	s->cmd = (struct dpsec_ring *)((uint8_t *)s->base + h->cmd_off);
	s->ev = (struct dpsec_ring *)((uint8_t *)s->base + h->ev_off);
	s->stats = (struct dpsec_shm_stats *)((uint8_t *)s->base + h->stats_off);
	s->sas = (struct dpsec_shm_sa *)((uint8_t *)s->base + h->sa_off);
	s->neighs = (struct dpsec_shm_neighs *)((uint8_t *)s->base + h->neigh_off);
	s->ports = (struct dpsec_shm_ports *)((uint8_t *)s->base + h->ports_off);
	return 0;
}

int cp_seg_attach(struct cp_seg *s, const char *instance, char *err, size_t errlen)
{
	char name[DPSEC_INSTANCE_MAX + 16];
	struct stat st;

	memset(s, 0, sizeof(*s));
	snprintf(name, sizeof(name), DPSEC_SHM_PREFIX "%s", instance);
	s->fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	if (s->fd < 0) {
		snprintf(err, errlen, "no dpsecd for instance \"%s\" (%s: %s)", instance, name,
			 strerror(errno));
		return -1;
	}
	if (fstat(s->fd, &st) < 0 || (size_t)st.st_size < sizeof(struct dpsec_shm_hdr)) {
		snprintf(err, errlen, "%s: too small for a dpsec segment", name);
		goto fail;
	}
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
		uint32_t pid = 0;

		if (pread(s->fd, &pid, sizeof(pid), offsetof(struct dpsec_shm_hdr, ctl_pid)) < 0)
			pid = 0;
		snprintf(err, errlen, "another dpsec-ctld (pid %u) manages instance \"%s\"", pid, instance);
		goto fail;
	}
	if (map_all(s, (size_t)st.st_size, err, errlen) < 0)
		goto fail;
	atomic_store(&s->hdr->ctl_pid, (uint32_t)getpid());
	return 0;
fail:
	cp_seg_detach(s);
	return -1;
}

void cp_seg_detach(struct cp_seg *s)
{
	if (s->base != NULL) {
		atomic_store(&s->hdr->ctl_pid, 0);
		munmap(s->base, s->size);
	}
	if (s->fd >= 0)
		close(s->fd); /* drops the lock */
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

int cp_seg_replaced(const struct cp_seg *s, const char *instance)
{
	char name[DPSEC_INSTANCE_MAX + 16];
	struct dpsec_shm_hdr h;
	int fd;
	ssize_t n;

	snprintf(name, sizeof(name), DPSEC_SHM_PREFIX "%s", instance);
	fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	return n != (ssize_t)sizeof(h) || h.generation != s->generation;
}
