/* cp_ikev1.c - dpsec-ctld's IKEv1: the engine of ike/ikev1.h beside
 * cp_ike.c's IKEv2. It shares IKEv2's sockets (a datagram goes to the
 * engine of its version byte), policy lookup (answering only while the
 * assigned policy says ike_version = 1, with IKEv1's Main Mode suites in
 * place of IKEv2's), SPI allocator, log and event handling (cp_ike.c's,
 * told the version). The ISAKMP SA lifetime and the legacy suites follow
 * the assigned policy's main_mode block (the lifetime: --test-ike-lifetime
 * when given). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cp_ike.h"
#include "cp_ikev1.h"
#include "ike_dh.h"

#define ISAKMP_VERSION_OFFSET 17
#define DEFAULT_LIFETIME_MINUTES 480

struct cp_ikev1 {
	struct ikev1_engine *e;
	struct cp_ctx *c;
	int (*lookup)(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out);
	void *lookup_ctx;
	uint32_t lifetime_s;  /* what the engine was last given */
	bool legacy;
};

/* Main Mode suites, in order of preference (IKEv1 has no AEAD Phase 1,
 * and authenticates with the HMAC of the PRF's hash). */
#define SUITE(enc, bits, prf, group) { { IKE_ENCR_##enc, bits, IKE_INTEG_NONE, IKE_PRF_HMAC_##prf }, \
				       IKE_DH_##group }
static const struct ike_mm_method suites[] = {
	SUITE(AES_CBC, 256, SHA2_256, MODP_2048), SUITE(AES_CBC, 128, SHA2_256, MODP_2048),
	SUITE(AES_CBC, 256, SHA2_256, ECP_256),   SUITE(AES_CBC, 128, SHA1, MODP_2048),
	SUITE(AES_CBC, 256, SHA1, MODP_2048),     SUITE(3DES, 0, SHA1, MODP_2048),
};
/* With legacy_suites: what older peers offer, among them ike-scan's
 * default probe's transforms with group 2 (DES or 3DES, MD5 or SHA1). */
static const struct ike_mm_method legacy_suites[] = {
	SUITE(3DES, 0, SHA1, MODP_1024), SUITE(AES_CBC, 128, SHA1, MODP_1024),
	SUITE(3DES, 0, MD5, MODP_1024),  SUITE(DES, 0, SHA1, MODP_1024),
	SUITE(DES, 0, MD5, MODP_1024),
};
#undef SUITE
#define N(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(N(suites) + N(legacy_suites) <= IKE_MAX_METHODS, "too many Main Mode suites");
_Static_assert(CFG_MAX_MM_METHODS + N(legacy_suites) <= IKE_MAX_METHODS,
	       "too many Main Mode methods with the legacy suites");

/* The policy's Main Mode methods or dpsec's suites, then with
 * legacy_suites the legacy ones (CFG_MAX_MM_METHODS leaves them room). */
static void main_mode_suites(const struct cp_ikev1 *k, struct ikev2_peer *p)
{
	cp_ike_mm_methods(k->c, suites, N(suites), p);
	if (!k->legacy)
		return;
	memcpy(p->mm + p->n_mm, legacy_suites, sizeof(legacy_suites));
	p->n_mm += N(legacy_suites);
}

bool cp_ikev1_assigned(const struct cp_ctx *c)
{
	const struct cfg_policy *p = cp_ike_assigned_policy(c);

	return p != NULL && p->main_mode.ike_version == 1;
}

bool cp_ikev1_datagram(const uint8_t *buf, size_t len)
{
	return len > ISAKMP_VERSION_OFFSET && buf[ISAKMP_VERSION_OFFSET] >> 4 == 1;
}

/* The peer's policy as cp_ike.c finds it, for an IKEv1 policy only. */
static int lookup(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	struct cp_ikev1 *k = ctx;
	int rc;

	if (!cp_ikev1_assigned(k->c)) {
		cp_log(LOG_INFO, "ike: IKEv1 refused: the assigned policy negotiates IKEv2");
		return -ENOENT;
	}
	rc = k->lookup(k->lookup_ctx, q, out);
	if (rc == 0)
		main_mode_suites(k, out);
	return rc;
}

struct cp_ikev1 *cp_ikev1_open(struct cp_ctx *c, const struct ikev2_conf *v2, char *err,
			       size_t errlen)
{
	struct cp_ikev1 *k = calloc(1, sizeof(*k));
	struct ike_err ierr = { 0 };
	struct ikev1_conf conf;

	if (k == NULL) {
		snprintf(err, errlen, "IKEv1: out of memory");
		return NULL;
	}
	*k = (struct cp_ikev1){ .c = c, .lookup = v2->lookup, .lookup_ctx = v2->lookup_ctx };
	ikev1_conf_default(&conf);
	conf.lookup = lookup;
	conf.lookup_ctx = k;
	conf.spi_alloc = v2->spi_alloc;
	conf.spi_ctx = v2->spi_ctx;
	conf.log = v2->log;
	conf.log_ctx = v2->log_ctx;
	k->lifetime_s = conf.ike_lifetime_s;
	k->e = ikev1_engine_new(&conf, &ierr);
	if (k->e == NULL) {
		snprintf(err, errlen, "IKEv1 engine: %s", ierr.msg);
		free(k);
		return NULL;
	}
	return k;
}

void cp_ikev1_close(struct cp_ikev1 *k)
{
	if (k == NULL)
		return;
	ikev1_engine_free(k->e);
	free(k);
}

/* The assigned policy's ISAKMP SA lifetime and legacy suites, for the
 * Main Modes to come (the defaults without an IKEv1 policy). */
static void follow_policy(struct cp_ikev1 *k)
{
	const struct cfg_policy *p = cp_ike_assigned_policy(k->c);
	uint32_t life = k->c->o.test_ike_lifetime_s
				? k->c->o.test_ike_lifetime_s
				: (p ? p->main_mode.lifetime_minutes : DEFAULT_LIFETIME_MINUTES) * 60u;
	bool legacy = p != NULL && p->main_mode.legacy_suites;
	struct ike_err err = { 0 };

	if (life == k->lifetime_s && legacy == k->legacy)
		return;
	if (ikev1_engine_set_phase1(k->e, life, legacy, &err) < 0) {
		cp_log(LOG_ERR, "ike: IKEv1: %s", err.msg);
		return;
	}
	k->lifetime_s = life;
	k->legacy = legacy;
	cp_log(LOG_INFO, "ike: IKEv1 Main Modes from now on: ISAKMP SA lifetime %u s, legacy suites %s",
	       life, legacy ? "allowed" : "refused");
}

int cp_ikev1_input(struct cp_ctx *c, struct cp_ikev1 *k, const uint8_t *buf, size_t len,
		   const struct ike_endpoint *local, const struct ike_endpoint *remote,
		   uint64_t now_ms, struct ike_err *err)
{
	uint64_t before = ikev1_engine_stats(k->e)->n[IKEV1_STAT_INVALID_COOKIES];
	int rc;

	follow_policy(k); /* a first message after a change: not one loop turn late */
	rc = ikev1_input(k->e, buf, len, local, remote, now_ms, err);
	c->mm[CP_MM_invalid_cookies_received] +=
		ikev1_engine_stats(k->e)->n[IKEV1_STAT_INVALID_COOKIES] - before;
	return rc;
}

void cp_ikev1_poll(struct cp_ctx *c, struct cp_ikev1 *k, uint64_t now_ms)
{
	struct ikev2_event ev;

	follow_policy(k);
	if (now_ms >= ikev1_next_timer(k->e))
		ikev1_tick(k->e, now_ms);
	while (ikev1_next_event(k->e, &ev)) {
		if (c->attached || ev.kind == IKEV2_EV_SEND)
			cp_ike_event(c, &ev, 1);
		ikev2_event_release(&ev);
	}
}

int cp_ikev1_initiate(struct cp_ikev1 *k, struct ikev2_peer *pol, const struct ike_endpoint *local,
		      const struct ike_endpoint *remote, uint64_t now_ms, struct ikev2_sa_id *out,
		      struct ike_err *err)
{
	follow_policy(k);
	main_mode_suites(k, pol);
	return ikev1_initiate(k->e, pol, local, remote, now_ms, out, err);
}

int cp_ikev1_rekey_child(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint32_t spi_in,
			 uint64_t now_ms, struct ike_err *err)
{
	return ikev1_rekey_child(k->e, sa, spi_in, now_ms, err);
}

int cp_ikev1_delete_child(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint32_t spi_in,
			  uint64_t now_ms, struct ike_err *err)
{
	return ikev1_delete_child(k->e, sa, spi_in, now_ms, err);
}

int cp_ikev1_check_liveness(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint64_t now_ms,
			    struct ike_err *err)
{
	return ikev1_check_liveness(k->e, sa, now_ms, err);
}

int cp_ikev1_peer_moved(struct cp_ikev1 *k, const struct ikev2_sa_id *sa,
			const struct ike_endpoint *remote, uint64_t now_ms)
{
	return ikev1_peer_moved(k->e, sa, remote, now_ms);
}

int cp_ikev1_renew(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint64_t now_ms,
		   struct ike_err *err)
{
	struct ikev2_sa_id new_sa;

	return ikev1_renew(k->e, sa, now_ms, &new_sa, err);
}

int cp_ikev1_delete_ike(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint64_t now_ms,
			struct ike_err *err)
{
	return ikev1_delete_ike(k->e, sa, now_ms, err);
}

const struct ikev1_stats *cp_ikev1_stats(const struct cp_ikev1 *k)
{
	return ikev1_engine_stats(k->e);
}

int cp_ikev1_quick_mode(struct cp_ikev1 *k, const struct ikev2_sa_id *sa, uint64_t now_ms,
			struct ike_err *err)
{
	return ikev1_quick_mode(k->e, sa, now_ms, err);
}
