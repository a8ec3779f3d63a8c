/* ike_child.c - traffic selectors (intersection, narrowing, containment)
 * the keys of a negotiated child SA cut from KEYMAT, and the records of
 * the child SAs an IKE SA holds (see ike_child.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_child.h"
#include "ike_sa.h"

static size_t addr_len(const struct dpsec_addr *a)
{
	return a->family == DPSEC_AF_INET ? 4 : 16;
}

static int addr_cmp(const struct dpsec_addr *a, const struct dpsec_addr *b)
{
	return memcmp(a->a, b->a, addr_len(a));
}

struct ike_ts ike_ts_from_prefix(const struct dpsec_prefix *p)
{
	struct ike_ts t = { .lo = p->addr, .hi = p->addr, .port_hi = 0xffff };
	size_t bits = addr_len(&p->addr) * 8;

	for (size_t i = p->len; i < bits; i++) {
		t.lo.a[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
		t.hi.a[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	}
	return t;
}

static const struct dpsec_addr *addr_max(const struct dpsec_addr *a, const struct dpsec_addr *b)
{
	return addr_cmp(a, b) >= 0 ? a : b;
}

static const struct dpsec_addr *addr_min(const struct dpsec_addr *a, const struct dpsec_addr *b)
{
	return addr_cmp(a, b) <= 0 ? a : b;
}

bool ike_ts_intersect(const struct ike_ts *a, const struct ike_ts *b, struct ike_ts *out)
{
	struct ike_ts t;

	if (a->lo.family != b->lo.family)
		return false;
	if (a->proto != 0 && b->proto != 0 && a->proto != b->proto)
		return false;
	t.proto = a->proto ? a->proto : b->proto;
	t.port_lo = a->port_lo > b->port_lo ? a->port_lo : b->port_lo;
	t.port_hi = a->port_hi < b->port_hi ? a->port_hi : b->port_hi;
	t.lo = *addr_max(&a->lo, &b->lo);
	t.hi = *addr_min(&a->hi, &b->hi);
	if (t.port_lo > t.port_hi || addr_cmp(&t.lo, &t.hi) > 0)
		return false;
	*out = t;
	return true;
}

bool ike_ts_within(const struct ike_ts *a, const struct ike_ts *b)
{
	struct ike_ts i;

	return ike_ts_intersect(a, b, &i) && i.proto == a->proto && i.port_lo == a->port_lo &&
	       i.port_hi == a->port_hi && addr_cmp(&i.lo, &a->lo) == 0 &&
	       addr_cmp(&i.hi, &a->hi) == 0;
}

int ike_ts_narrow(const struct ike_ts_set *proposed, const struct ike_ts_set *allowed,
		  struct ike_ts_set *out)
{
	out->n = 0;
	for (uint8_t p = 0; p < proposed->n; p++)
		for (uint8_t a = 0; a < allowed->n && out->n < IKE_MAX_TS; a++)
			if (ike_ts_intersect(&proposed->ts[p], &allowed->ts[a], &out->ts[out->n]))
				out->n++;
	return out->n ? 0 : -ENOENT;
}

bool ike_ts_set_within(const struct ike_ts_set *got, const struct ike_ts_set *asked)
{
	for (uint8_t g = 0; g < got->n; g++) {
		bool inside = false;

		for (uint8_t a = 0; a < asked->n && !inside; a++)
			inside = ike_ts_within(&got->ts[g], &asked->ts[a]);
		if (!inside)
			return false;
	}
	return got->n > 0;
}

static void addr_text(const struct dpsec_addr *a, char *buf, size_t cap)
{
	if (a->family == DPSEC_AF_INET) {
		snprintf(buf, cap, "%u.%u.%u.%u", a->a[0], a->a[1], a->a[2], a->a[3]);
		return;
	}
	snprintf(buf, cap, "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x",
		 a->a[0], a->a[1], a->a[2], a->a[3], a->a[4], a->a[5], a->a[6], a->a[7], a->a[8],
		 a->a[9], a->a[10], a->a[11], a->a[12], a->a[13], a->a[14], a->a[15]);
}

void ike_ts_describe(const struct ike_ts *t, char *buf, size_t cap)
{
	char lo[48], hi[48];

	addr_text(&t->lo, lo, sizeof(lo));
	addr_text(&t->hi, hi, sizeof(hi));
	snprintf(buf, cap, "%s-%s proto %u ports %u-%u", lo, hi, t->proto, t->port_lo, t->port_hi);
}

size_t ike_child_keymat_len(const struct ike_qm_method *m)
{
	return 2 * (ike_qm_enc_keymat_len(m) + ike_qm_integ_key_len(m));
}

/* One direction's keys from its half of KEYMAT: encryption (with the GCM
 * salt as its last 4 bytes), then integrity. */
static void take_keys(struct dpsec_sa_conf *sa, const struct ike_qm_method *m, const uint8_t *km)
{
	size_t enc = ike_qm_enc_keymat_len(m);

	sa->protocol = m->protocol == IKE_PROTO_AH ? DPSEC_PROTO_AH : DPSEC_PROTO_ESP;
	sa->enc_alg = m->enc_alg;
	sa->enc_key_len = m->enc_key_len;
	memcpy(sa->enc_key, km, m->enc_key_len);
	if (m->protocol == IKE_PROTO_ESP && dpsec_enc_is_aead(m->enc_alg))
		memcpy(sa->salt, km + m->enc_key_len, dpsec_enc_salt_len(m->enc_alg));
	sa->integ_alg = m->integ_alg;
	sa->integ_key_len = (uint8_t)ike_qm_integ_key_len(m);
	memcpy(sa->integ_key, km + enc, sa->integ_key_len);
}

static void sa_common(struct dpsec_sa_conf *sa, const struct ike_child *c,
		      const struct ike_child_keys_in *in, uint8_t dir, uint32_t spi)
{
	sa->spi = spi;
	sa->direction = dir;
	sa->mode = in->transport ? DPSEC_MODE_TRANSPORT : DPSEC_MODE_TUNNEL;
	sa->esn = c->method.esn;
	sa->replay_window = dir == DPSEC_DIR_IN ? DPSEC_REPLAY_DEFAULT : 0;
	sa->local = *in->local;
	sa->remote = *in->remote;
	snprintf(sa->name, sizeof(sa->name), "ike-%s-%08x", dir == DPSEC_DIR_IN ? "in" : "out", spi);
}

int ike_child_set_keys(struct ike_child *c, const struct ike_child_keys_in *in,
		       struct ike_err *err)
{
	size_t half = ike_child_keymat_len(&c->method) / 2;
	const uint8_t *i_to_r = in->keymat, *r_to_i = in->keymat + half;

	if (in->len < 2 * half)
		return ike_fail(err, -EINVAL, "child SA: %zu bytes of KEYMAT, the method needs %zu",
				in->len, 2 * half);
	sa_common(&c->in, c, in, DPSEC_DIR_IN, in->spi_in);
	sa_common(&c->out, c, in, DPSEC_DIR_OUT, in->spi_out);
	take_keys(&c->out, &c->method, in->initiator ? i_to_r : r_to_i);
	take_keys(&c->in, &c->method, in->initiator ? r_to_i : i_to_r);
	return 0;
}

struct ike_child *ike_child_make(const struct ike_child *tmpl, const struct ike_child_keys_in *in,
				 struct ike_err *err)
{
	struct ike_child *c = malloc(sizeof(*c));

	if (c == NULL) {
		ike_fail(err, -ENOMEM, "no memory for a child SA");
		return NULL;
	}
	*c = *tmpl;
	c->initiator = in->initiator;
	if (ike_child_set_keys(c, in, err)) {
		ike_child_wipe(c);
		free(c);
		return NULL;
	}
	return c;
}

void ike_child_wipe(struct ike_child *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

struct ike_child_rec *ike_child_recs_by_in(struct ike_child_recs *s, uint32_t spi_in)
{
	for (uint8_t i = 0; i < s->n; i++)
		if (s->rec[i].spi_in == spi_in)
			return &s->rec[i];
	return NULL;
}

struct ike_child_rec *ike_child_recs_by_out(struct ike_child_recs *s, uint32_t spi_out)
{
	for (uint8_t i = 0; i < s->n; i++)
		if (s->rec[i].spi_out == spi_out)
			return &s->rec[i];
	return NULL;
}

int ike_child_recs_add(struct ike_child_recs *s, const struct ike_child_rec *c)
{
	if (s->n >= IKE_SA_MAX_CHILDREN)
		return -ENOSPC;
	s->rec[s->n++] = *c;
	return 0;
}

void ike_child_recs_remove(struct ike_child_recs *s, struct ike_child_rec *c)
{
	size_t i = (size_t)(c - s->rec);

	memmove(c, c + 1, (s->n - i - 1) * sizeof(*c));
	s->n--;
}
