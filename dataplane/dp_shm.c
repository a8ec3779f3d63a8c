/* dp_shm.c - creating, laying out and removing the shared-memory segment,
 * and the sequence-locked writes into it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dp_shm.h"
#include "dpsec_ring.h"

#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)

int dp_shm_instance_check(const char *instance, char *err, size_t errlen)
{
	size_t n = strlen(instance);

	if (n == 0 || n >= DPSEC_INSTANCE_MAX ||
	    strspn(instance, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
		snprintf(err, errlen, "instance \"%s\": 1 to %d letters, digits, '_' or '-'",
			 instance, DPSEC_INSTANCE_MAX - 1);
		return -1;
	}
	return 0;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A segment left by a dpsecd that is still running belongs to it. */
static int check_stale(const char *name, char *err, size_t errlen)
{
	int fd = shm_open(name, O_RDONLY, 0);
	struct dpsec_shm_hdr h;
	ssize_t got;

	if (fd < 0)
		return 0;
	got = pread(fd, &h, sizeof(h), 0);
	close(fd);
	if (got == (ssize_t)sizeof(h) && h.magic == DPSEC_SHM_MAGIC && h.dp_pid != 0 &&
	    (uint32_t)getpid() != h.dp_pid && (kill((pid_t)h.dp_pid, 0) == 0 || errno == EPERM)) {
		snprintf(err, errlen, "instance segment %s is in use by dpsecd pid %u: choose another --instance",
			 name, h.dp_pid);
		return -1;
	}
	shm_unlink(name); /* left by a dpsecd that died */
	return 0;
}

static void layout(struct dp_shm *s, uint32_t sa_capacity, uint32_t n_workers)
{
	struct dpsec_shm_hdr *h = s->base;
	size_t off = ALIGN64(sizeof(*h));

	h->magic = DPSEC_SHM_MAGIC;
	h->layout = DPSEC_SHM_LAYOUT;
	h->msg_version = DPSEC_MSG_VERSION;
	h->generation = now_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 40);
	h->size = s->size;
	h->dp_pid = (uint32_t)getpid();
	h->sa_capacity = sa_capacity;
	h->n_workers = n_workers;
	h->n_counters = DP_C_MAX;
	h->cmd_off = off;
	off = ALIGN64(off + sizeof(struct dpsec_ring));
	h->ev_off = off;
	off = ALIGN64(off + sizeof(struct dpsec_ring));
	h->stats_off = off;
	off = ALIGN64(off + sizeof(struct dpsec_shm_stats));
	h->neigh_off = off;
	off = ALIGN64(off + sizeof(struct dpsec_shm_neighs));
	h->ports_off = off;
	off = ALIGN64(off + sizeof(struct dpsec_shm_ports));
	h->sa_off = off;
	s->hdr = h;
	s->cmd = (struct dpsec_ring *)((uint8_t *)s->base + h->cmd_off);
	s->ev = (struct dpsec_ring *)((uint8_t *)s->base + h->ev_off);
	s->stats = (struct dpsec_shm_stats *)((uint8_t *)s->base + h->stats_off);
	s->sas = (struct dpsec_shm_sa *)((uint8_t *)s->base + h->sa_off);
	s->neighs = (struct dpsec_shm_neighs *)((uint8_t *)s->base + h->neigh_off);
	s->ports = (struct dpsec_shm_ports *)((uint8_t *)s->base + h->ports_off);
	dpsec_ring_init(s->cmd);
	dpsec_ring_init(s->ev);
	for (uint32_t i = 0; i < sa_capacity; i++)
		s->sas[i].sa_id = i;
}

static size_t segment_size(uint32_t sa_capacity)
{
	return ALIGN64(sizeof(struct dpsec_shm_hdr)) + 2 * ALIGN64(sizeof(struct dpsec_ring)) +
	       ALIGN64(sizeof(struct dpsec_shm_stats)) + ALIGN64(sizeof(struct dpsec_shm_neighs)) +
	       ALIGN64(sizeof(struct dpsec_shm_ports)) +
	       (size_t)sa_capacity * sizeof(struct dpsec_shm_sa);
}

int dp_shm_create(struct dp_shm *s, const char *instance, uint32_t sa_capacity,
		  uint32_t n_workers, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (dp_shm_instance_check(instance, err, errlen) < 0)
		return -1;
	snprintf(s->name, sizeof(s->name), DPSEC_SHM_PREFIX "%s", instance);
	if (check_stale(s->name, err, errlen) < 0)
		return -1;
	s->size = segment_size(sa_capacity);
	s->fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (s->fd < 0 || fchmod(s->fd, 0600) < 0 || ftruncate(s->fd, (off_t)s->size) < 0) {
		snprintf(err, errlen, "shared memory %s: %s", s->name, strerror(errno));
		dp_shm_destroy(s);
		return -1;
	}
	s->base = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->base == MAP_FAILED) {
		s->base = NULL;
		snprintf(err, errlen, "shared memory %s: mmap %zu bytes: %s", s->name, s->size,
			 strerror(errno));
		dp_shm_destroy(s);
		return -1;
	}
	layout(s, sa_capacity, n_workers);
	return 0;
}

void dp_shm_destroy(struct dp_shm *s)
{
	if (s->base != NULL) {
		atomic_store(&s->hdr->ready, 0);
		explicit_bzero(s->cmd, sizeof(*s->cmd)); /* commands may hold keys */
		munmap(s->base, s->size);
	}
	if (s->fd >= 0) {
		close(s->fd);
		shm_unlink(s->name);
	}
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

void dp_shm_sa_write(struct dp_shm *s, uint32_t idx, const struct dpsec_shm_sa *e)
{
	struct dpsec_shm_sa *d = &s->sas[idx];
	uint32_t lock = atomic_load_explicit(&d->lock, memory_order_relaxed);

	atomic_store_explicit(&d->lock, lock + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy((uint8_t *)d + sizeof(d->lock), (const uint8_t *)e + sizeof(e->lock),
	       sizeof(*d) - sizeof(d->lock));
	atomic_store_explicit(&d->lock, lock + 2, memory_order_release);
}

/* A sequence lock made odd (writing) and even again. */
static void seq_begin(_Atomic uint64_t *lock)
{
	uint64_t v = atomic_load_explicit(lock, memory_order_relaxed);

	atomic_store_explicit(lock, v + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void seq_end(_Atomic uint64_t *lock)
{
	uint64_t v = atomic_load_explicit(lock, memory_order_relaxed);

	atomic_store_explicit(lock, v + 1, memory_order_release);
}

void dp_shm_stats_begin(struct dp_shm *s)
{
	seq_begin(&s->stats->lock);
}

void dp_shm_stats_end(struct dp_shm *s)
{
	s->stats->updated_ns = now_ns(CLOCK_REALTIME);
	seq_end(&s->stats->lock);
}

void dp_shm_neighs_begin(struct dp_shm *s)
{
	seq_begin(&s->neighs->lock);
}

void dp_shm_neighs_end(struct dp_shm *s)
{
	s->neighs->updated_ns = now_ns(CLOCK_REALTIME);
	seq_end(&s->neighs->lock);
}

void dp_shm_ports_begin(struct dp_shm *s)
{
	seq_begin(&s->ports->lock);
}

void dp_shm_ports_end(struct dp_shm *s)
{
	s->ports->updated_ns = now_ns(CLOCK_REALTIME);
	seq_end(&s->ports->lock);
}
