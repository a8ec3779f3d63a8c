/* test_spd.c - the SPD on rte_acl: a table of small policies with packets
 * and the rule each must match, error cases, and a differential test of
 * random policies and packets against a deliberately naive linear search. */
#include <arpa/inet.h>
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_memory.h>

#include "eal_setup.h"
#include "spd.h"
#include "check_run.h"

#define NO DP_SPD_NO_MATCH

/* ck_assert_msg() records its location on every call; in the inner loops
 * only a failure is worth that. */
#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* A packet as the tests think of it; ports in host order. */
struct pkt {
	uint8_t family; /* enum dpsec_family */
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

static void parse_addr(const char *s, uint8_t *family, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1)
		*family = DPSEC_AF_INET;
	else if (inet_pton(AF_INET6, s, a) == 1)
		*family = DPSEC_AF_INET6;
	else
		ck_abort_msg("bad address in the test table: %s", s);
}

static void parse_prefix(const char *s, struct dpsec_prefix *p)
{
	char buf[64];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = '\0';
	parse_addr(buf, &p->addr.family, p->addr.a);
	p->len = (uint8_t)atoi(slash + 1);
}

/* Looks up n packets of mixed families in bursts of at most 64, as the
 * dataplane would. */
static void spd_lookup(const struct dp_spd *spd, const struct pkt *p, uint32_t *res, uint32_t n)
{
	struct dp_spd_key4 k4[64];
	struct dp_spd_key6 k6[64];
	const struct dp_spd_key4 *pk4[64];
	const struct dp_spd_key6 *pk6[64];
	uint32_t idx4[64], idx6[64], r4[64], r6[64];

	for (uint32_t i = 0; i < n; i += 64) {
		uint32_t n4 = 0, n6 = 0, end = n - i < 64 ? n : i + 64;
		for (uint32_t j = i; j < end; j++) {
			if (p[j].family == DPSEC_AF_INET) {
				struct dp_spd_key4 *k = &k4[n4];
				memset(k, 0xa5, sizeof(*k)); /* the pad must not matter */
				k->proto = p[j].proto;
				memcpy(k->src, p[j].src, 4);
				memcpy(k->dst, p[j].dst, 4);
				k->sport = htons(p[j].sport);
				k->dport = htons(p[j].dport);
				pk4[n4] = k;
				idx4[n4++] = j;
			} else {
				struct dp_spd_key6 *k = &k6[n6];
				memset(k, 0x5a, sizeof(*k));
				k->proto = p[j].proto;
				memcpy(k->src, p[j].src, 16);
				memcpy(k->dst, p[j].dst, 16);
				k->sport = htons(p[j].sport);
				k->dport = htons(p[j].dport);
				pk6[n6] = k;
				idx6[n6++] = j;
			}
		}
		dp_spd_lookup4(spd, pk4, r4, n4);
		dp_spd_lookup6(spd, pk6, r6, n6);
		for (uint32_t j = 0; j < n4; j++)
			res[idx4[j]] = r4[j];
		for (uint32_t j = 0; j < n6; j++)
			res[idx6[j]] = r6[j];
	}
}

static char pkt_text[160];

static const char *pkt_str(const struct pkt *p)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = p->family == DPSEC_AF_INET ? AF_INET : AF_INET6;

	inet_ntop(af, p->src, s, sizeof(s));
	inet_ntop(af, p->dst, d, sizeof(d));
	snprintf(pkt_text, sizeof(pkt_text), "proto %u %s:%u -> %s:%u", p->proto, s, p->sport, d,
		 p->dport);
	return pkt_text;
}

/* ---- table-driven cases ------------------------------------------------- */

enum { ANY = 0, ICMP = 1, TCP = 6, UDP = 17, ESP = 50, SCTP = 132 };

struct tfilter {
	const char *src, *dst;
	uint8_t proto;
	bool mirrored;
	uint16_t sport[2], dport[2];
};

struct trule {
	uint32_t priority;
	bool tunnel;
	struct tfilter f[3];
};

struct tpkt {
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	uint32_t want;
};

struct tcase {
	const char *name;
	struct trule rules[5];
	struct tpkt pkts[12];
};

#define ALLP {0, 65535}
#define F(s, d, p, m) {s, d, p, m, ALLP, ALLP}
#define FP(s, d, p, m, sl, sh, dl, dh) {s, d, p, m, {sl, sh}, {dl, dh}}
#define TRANSPORT(prio, ...) {prio, false, {__VA_ARGS__}}
#define TUNNEL(prio, ...) {prio, true, {__VA_ARGS__}}
#define M true /* mirrored */
#define U false

static const struct tcase tcases[] = {
	{"lower priority value first", {
		TRANSPORT(10, F("10.0.0.0/8", "0.0.0.0/0", ANY, U)),
		TRANSPORT(5, F("10.1.0.0/16", "0.0.0.0/0", ANY, U)),
	}, {
		{"10.1.2.3", "1.1.1.1", TCP, 1, 2, 1},
		{"10.2.0.1", "1.1.1.1", TCP, 1, 2, 0},
		{"11.0.0.1", "1.1.1.1", TCP, 1, 2, NO},
		{"2001:db8::1", "2001:db8::2", TCP, 1, 2, NO}, /* no IPv6 filters */
	}},
	{"tunnel rules before transport rules", {
		TRANSPORT(1, F("10.0.0.0/8", "192.168.0.0/16", ANY, U)),
		TUNNEL(100, F("10.1.0.0/16", "192.168.1.0/24", ANY, U)),
		TUNNEL(200, F("10.0.0.0/8", "192.168.2.0/24", ANY, U)),
	}, {
		{"10.1.1.1", "192.168.1.1", UDP, 53, 53, 1},
		{"10.2.1.1", "192.168.1.1", UDP, 53, 53, 0},
		{"10.1.1.1", "192.168.2.1", ICMP, 0, 0, 2},
		{"10.1.1.1", "192.168.3.1", ICMP, 0, 0, 0},
	}},
	{"file order on equal priorities", {
		TRANSPORT(7, F("10.0.0.0/24", "0.0.0.0/0", ANY, U)),
		TRANSPORT(7, F("10.0.0.0/8", "0.0.0.0/0", ANY, U)),
		TRANSPORT(7, F("10.0.0.0/8", "0.0.0.0/0", ANY, U)),
		TUNNEL(7, F("10.0.5.0/24", "0.0.0.0/0", ANY, U)),
		TUNNEL(7, F("10.0.0.0/16", "0.0.0.0/0", ANY, U)),
	}, {
		{"10.0.0.1", "1.2.3.4", TCP, 9, 9, 4},
		{"10.1.0.1", "1.2.3.4", TCP, 9, 9, 1},
		{"10.0.5.1", "1.2.3.4", TCP, 9, 9, 3},
	}},
	{"mirrored filters match both ways", {
		TRANSPORT(1, FP("10.0.0.0/8", "192.168.0.0/16", TCP, M, 1024, 65535, 443, 443)),
	}, {
		{"10.1.1.1", "192.168.1.1", TCP, 5000, 443, 0},
		{"192.168.1.1", "10.1.1.1", TCP, 443, 5000, 0},
		{"192.168.1.1", "10.1.1.1", TCP, 5000, 443, NO}, /* ports not swapped */
		{"10.1.1.1", "192.168.1.1", TCP, 443, 5000, NO},
		{"192.168.1.1", "10.1.1.1", UDP, 443, 5000, NO},
	}},
	{"filters not mirrored match one way", {
		TRANSPORT(1, FP("10.0.0.0/8", "192.168.0.0/16", TCP, U, 1024, 65535, 443, 443)),
		TRANSPORT(2, F("2001:db8:1::/48", "2001:db8:2::/48", ANY, U)),
		TRANSPORT(3, F("2001:db8:3::/48", "2001:db8:4::/48", ANY, M)),
	}, {
		{"10.1.1.1", "192.168.1.1", TCP, 5000, 443, 0},
		{"192.168.1.1", "10.1.1.1", TCP, 443, 5000, NO},
		{"2001:db8:1::1", "2001:db8:2::1", UDP, 1, 2, 1},
		{"2001:db8:2::1", "2001:db8:1::1", UDP, 2, 1, NO},
		{"2001:db8:3::1", "2001:db8:4::1", UDP, 1, 2, 2},
		{"2001:db8:4::1", "2001:db8:3::1", UDP, 2, 1, 2},
	}},
	{"any protocol and a specific one", {
		TRANSPORT(1, F("10.0.0.0/8", "20.0.0.0/8", UDP, U)),
		TRANSPORT(2, F("10.0.0.0/8", "20.0.0.0/8", ANY, U)),
	}, {
		{"10.0.0.1", "20.0.0.1", UDP, 1, 1, 0},
		{"10.0.0.1", "20.0.0.1", TCP, 1, 1, 1},
		{"10.0.0.1", "20.0.0.1", ICMP, 0, 0, 1},
		{"10.0.0.1", "20.0.0.1", ESP, 0, 0, 1},
		{"10.0.0.1", "20.0.0.1", 255, 0, 0, 1},
		{"10.0.0.1", "20.0.0.1", 0, 0, 0, 1},
	}},
	{"edges of port ranges", {
		TRANSPORT(1, FP("0.0.0.0/0", "0.0.0.0/0", TCP, U, 1000, 2000, 80, 80)),
		TRANSPORT(2, FP("0.0.0.0/0", "0.0.0.0/0", UDP, U, 0, 0, 65535, 65535)),
		TRANSPORT(3, FP("::/0", "::/0", SCTP, U, 0, 1023, 1024, 65535)),
	}, {
		{"1.1.1.1", "2.2.2.2", TCP, 999, 80, NO},
		{"1.1.1.1", "2.2.2.2", TCP, 1000, 80, 0},
		{"1.1.1.1", "2.2.2.2", TCP, 2000, 80, 0},
		{"1.1.1.1", "2.2.2.2", TCP, 2001, 80, NO},
		{"1.1.1.1", "2.2.2.2", TCP, 1500, 79, NO},
		{"1.1.1.1", "2.2.2.2", TCP, 1500, 81, NO},
		{"1.1.1.1", "2.2.2.2", UDP, 0, 65535, 1},
		{"1.1.1.1", "2.2.2.2", UDP, 1, 65535, NO},
		{"1.1.1.1", "2.2.2.2", UDP, 0, 65534, NO},
		{"::1", "::2", SCTP, 1023, 1024, 2},
		{"::1", "::2", SCTP, 1024, 1024, NO},
		{"::1", "::2", SCTP, 0, 1023, NO},
	}},
	{"/0 and /32 prefixes", {
		TRANSPORT(1, F("192.0.2.1/32", "198.51.100.7/32", ANY, U)),
		TRANSPORT(2, F("203.0.113.77/24", "0.0.0.0/0", ANY, U)), /* host bits ignored */
		TRANSPORT(9, F("0.0.0.0/0", "0.0.0.0/0", ANY, U)),
	}, {
		{"192.0.2.1", "198.51.100.7", ICMP, 0, 0, 0},
		{"192.0.2.2", "198.51.100.7", ICMP, 0, 0, 2},
		{"192.0.2.1", "198.51.100.6", ICMP, 0, 0, 2},
		{"203.0.113.1", "198.51.100.7", ICMP, 0, 0, 1},
		{"0.0.0.0", "0.0.0.0", 0, 0, 0, 2},
		{"255.255.255.255", "255.255.255.255", 255, 65535, 65535, 2},
	}},
	{"IPv6 prefixes", {
		TRANSPORT(1, F("2001:db8::1/128", "::/0", ANY, M)),
		TRANSPORT(2, F("2001:db8::/32", "2001:db8:1::/48", TCP, U)),
		TRANSPORT(3, F("2001:db8:ffff:ffff:8000::/65", "::/0", ANY, U)),
		TRANSPORT(4, F("fe80::/10", "ff02::1:ff00:0/104", ICMP, U)),
	}, {
		{"2001:db8::1", "2001:db8:1::5", TCP, 1, 2, 0},
		{"2001:db8:1::5", "2001:db8::1", TCP, 2, 1, 0},
		{"2001:db8::2", "2001:db8:1::5", TCP, 1, 2, 1},
		{"2001:db8::2", "2001:db8:2::5", TCP, 1, 2, NO},
		{"2001:db8:ffff:ffff:8000::9", "::1", UDP, 1, 2, 2},
		{"2001:db8:ffff:ffff:ffff::9", "::1", UDP, 1, 2, 2},
		{"2001:db8:ffff:ffff:7fff::9", "::1", UDP, 1, 2, NO},
		{"fe80::1", "ff02::1:ff12:3456", ICMP, 0, 0, 3},
		{"febf::1", "ff02::1:ff12:3456", ICMP, 0, 0, 3},
		{"fec0::1", "ff02::1:ff12:3456", ICMP, 0, 0, NO},
		{"fe80::1", "ff02::1:fe12:3456", ICMP, 0, 0, NO},
		{"10.0.0.1", "10.0.0.2", ICMP, 0, 0, NO},
	}},
	{"rules with filters of both families", {
		TRANSPORT(1, F("10.0.0.0/8", "0.0.0.0/0", ANY, U), F("2001:db8::/32", "::/0", ANY, U)),
		TRANSPORT(2, F("0.0.0.0/0", "0.0.0.0/0", ANY, U), F("::/0", "::/0", ANY, U)),
		TUNNEL(3, F("2001:db8:5::/48", "::/0", ANY, M)),
	}, {
		{"10.1.1.1", "1.1.1.1", UDP, 1, 1, 0},
		{"11.1.1.1", "1.1.1.1", UDP, 1, 1, 1},
		{"2001:db8::5", "::1", UDP, 1, 1, 0},
		{"2001:db9::5", "::1", UDP, 1, 1, 1},
		{"::1", "2001:db8:5::1", UDP, 1, 1, 2},
	}},
};

struct built {
	struct dpsec_rule rules[5];
	struct dpsec_filter filters[5][3];
	uint32_t n_rules;
};

static void build_rules(const struct tcase *tc, struct built *b)
{
	memset(b, 0, sizeof(*b));
	for (uint32_t r = 0; r < 5 && tc->rules[r].f[0].src != NULL; r++, b->n_rules++) {
		struct dpsec_rule *rule = &b->rules[r];
		snprintf(rule->name, sizeof(rule->name), "rule%u", r);
		rule->priority = tc->rules[r].priority;
		rule->tunnel = tc->rules[r].tunnel;
		rule->filters = b->filters[r];
		for (uint32_t i = 0; i < 3 && tc->rules[r].f[i].src != NULL; i++, rule->n_filters++) {
			const struct tfilter *t = &tc->rules[r].f[i];
			struct dpsec_filter *f = &b->filters[r][i];
			parse_prefix(t->src, &f->src);
			parse_prefix(t->dst, &f->dst);
			f->proto = t->proto;
			f->mirrored = t->mirrored;
			f->sport_lo = t->sport[0];
			f->sport_hi = t->sport[1];
			f->dport_lo = t->dport[0];
			f->dport_hi = t->dport[1];
		}
	}
}

START_TEST(test_table)
{
	const struct tcase *tc = &tcases[_i];
	struct built b;
	struct pkt p[12];
	uint32_t res[12], n = 0;
	char err[256] = "";
	struct dp_spd *spd;

	build_rules(tc, &b);
	spd = dp_spd_build("table", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err));
	ck_assert_msg(spd != NULL, "%s: %s", tc->name, err);
	for (; n < 12 && tc->pkts[n].src != NULL; n++) {
		uint8_t fd;
		parse_addr(tc->pkts[n].src, &p[n].family, p[n].src);
		parse_addr(tc->pkts[n].dst, &fd, p[n].dst);
		p[n].proto = tc->pkts[n].proto;
		p[n].sport = tc->pkts[n].sport;
		p[n].dport = tc->pkts[n].dport;
	}
	spd_lookup(spd, p, res, n);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_msg(res[i] == tc->pkts[i].want, "%s: packet %u (%s): rule %d, want %d",
			      tc->name, i, pkt_str(&p[i]), (int)res[i], (int)tc->pkts[i].want);
	dp_spd_free(spd);
}
END_TEST

/* ---- building: counts, empty families, errors --------------------------- */

START_TEST(test_entry_count)
{
	struct built b;
	char err[256] = "";
	struct dp_spd *spd;

	build_rules(&tcases[9], &b); /* 2 + 2 + one mirrored: 6 entries */
	spd = dp_spd_build("count", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err));
	ck_assert_msg(spd != NULL, "%s", err);
	ck_assert_uint_eq(dp_spd_entry_count(spd), 6);
	dp_spd_free(spd);
}
END_TEST

/* dataplane.policy_memory_mb: a classifier that needs more than its bound is
 * refused with a message naming the bound; within it, the same rules build
 * and classify as without one. */
START_TEST(test_memory_bound)
{
	struct built b;
	char err[256] = "";
	struct dp_spd *spd;

	build_rules(&tcases[9], &b);
	spd = dp_spd_build("tiny", b.rules, b.n_rules, SOCKET_ID_ANY, 4096, err, sizeof(err));
	ck_assert_ptr_null(spd);
	ck_assert_msg(strstr(err, "tiny_v4: the classifier needs more than") &&
		      strstr(err, "dataplane.policy_memory_mb"), "%s", err);
	spd = dp_spd_build("roomy", b.rules, b.n_rules, SOCKET_ID_ANY, (size_t)64 << 20, err,
			   sizeof(err));
	ck_assert_msg(spd != NULL, "%s", err);
	ck_assert_uint_eq(dp_spd_entry_count(spd), 6);
	dp_spd_free(spd);
}
END_TEST

START_TEST(test_empty)
{
	struct pkt p[2] = {{.family = DPSEC_AF_INET, .proto = TCP}, {.family = DPSEC_AF_INET6}};
	struct dpsec_rule rule = {.name = "nothing"}; /* a rule without filters */
	uint32_t res[2] = {0, 0};
	char err[256] = "";
	struct dp_spd *spd;

	spd = dp_spd_build("empty", NULL, 0, SOCKET_ID_ANY, 0, err, sizeof(err));
	ck_assert_msg(spd != NULL, "%s", err);
	ck_assert_uint_eq(dp_spd_entry_count(spd), 0);
	spd_lookup(spd, p, res, 2);
	ck_assert_uint_eq(res[0], NO);
	ck_assert_uint_eq(res[1], NO);
	dp_spd_free(spd);

	spd = dp_spd_build("empty", &rule, 1, SOCKET_ID_ANY, 0, err, sizeof(err));
	ck_assert_msg(spd != NULL, "%s", err);
	res[0] = res[1] = 0;
	spd_lookup(spd, p, res, 2);
	ck_assert_uint_eq(res[0], NO);
	ck_assert_uint_eq(res[1], NO);
	dp_spd_free(spd);
}
END_TEST

START_TEST(test_errors)
{
	struct built b;
	char err[256];
	struct dp_spd *spd, *other;

	build_rules(&tcases[0], &b);
	spd = dp_spd_build("dup", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err));
	ck_assert_msg(spd != NULL, "%s", err);
	err[0] = '\0';
	other = dp_spd_build("dup", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err));
	ck_assert_ptr_null(other);
	ck_assert_msg(strstr(err, "exists") != NULL, "%s", err);
	dp_spd_free(spd);
	other = dp_spd_build("dup", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err));
	ck_assert_msg(other != NULL, "a freed SPD's name is free again: %s", err);
	dp_spd_free(other);

	ck_assert_ptr_null(dp_spd_build("a-name-longer-than-28-characters", b.rules, b.n_rules,
					SOCKET_ID_ANY, 0, err, sizeof(err)));
	ck_assert_ptr_null(dp_spd_build("", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err)));

	b.filters[1][0].dst.addr.family = DPSEC_AF_INET6;
	err[0] = '\0';
	ck_assert_ptr_null(dp_spd_build("bad", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err)));
	ck_assert_msg(strstr(err, "rule1") != NULL && strstr(err, "filter 1") != NULL, "%s", err);
	b.filters[1][0].dst.addr.family = DPSEC_AF_INET;
	b.filters[1][0].src.len = 33;
	ck_assert_ptr_null(dp_spd_build("bad", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err)));
	b.filters[1][0].src.len = 16;
	b.filters[1][0].dport_lo = 2;
	b.filters[1][0].dport_hi = 1;
	ck_assert_ptr_null(dp_spd_build("bad", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err)));
	b.filters[1][0].dport_lo = 0;
	b.filters[1][0].dport_hi = 65535;
	spd = dp_spd_build("bad", b.rules, b.n_rules, SOCKET_ID_ANY, 0, err, sizeof(err));
	ck_assert_msg(spd != NULL, "failed builds leave nothing behind: %s", err);
	dp_spd_free(spd);
}
END_TEST

/* ---- differential test against a naive linear search -------------------- */

#define D_RULES 200
#define D_FILTERS 4
#define D_PACKETS 20000

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd(uint64_t *x, uint32_t n)
{
	return (uint32_t)(rng_next(x) % n);
}

/* The reference: is bit i of the prefix equal in a? */
static bool ref_in_prefix(const struct dpsec_prefix *p, uint8_t family, const uint8_t *a)
{
	if (p->addr.family != family)
		return false;
	for (uint32_t i = 0; i < p->len; i++) {
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));
		if ((p->addr.a[i / 8] & bit) != (a[i / 8] & bit))
			return false;
	}
	return true;
}

static bool ref_match(const struct dpsec_filter *f, const struct pkt *p, bool swapped)
{
	const struct dpsec_prefix *src = swapped ? &f->dst : &f->src;
	const struct dpsec_prefix *dst = swapped ? &f->src : &f->dst;
	uint16_t slo = swapped ? f->dport_lo : f->sport_lo, shi = swapped ? f->dport_hi : f->sport_hi;
	uint16_t dlo = swapped ? f->sport_lo : f->dport_lo, dhi = swapped ? f->sport_hi : f->dport_hi;

	return (f->proto == 0 || f->proto == p->proto) && ref_in_prefix(src, p->family, p->src) &&
	       ref_in_prefix(dst, p->family, p->dst) && p->sport >= slo && p->sport <= shi &&
	       p->dport >= dlo && p->dport <= dhi;
}

/* Does rule a come before rule b? */
static bool ref_before(const struct dpsec_rule *rules, uint32_t a, uint32_t b)
{
	if (rules[a].tunnel && !rules[b].tunnel)
		return true;
	if (rules[a].tunnel != rules[b].tunnel)
		return false;
	if (rules[a].priority != rules[b].priority)
		return rules[a].priority < rules[b].priority;
	return a < b;
}

static void ref_order(const struct dpsec_rule *rules, uint32_t n, uint32_t *order)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j = i;
		for (; j > 0 && ref_before(rules, i, order[j - 1]); j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
}

static uint32_t ref_lookup(const struct dpsec_rule *rules, const uint32_t *order, uint32_t n,
			   const struct pkt *p)
{
	for (uint32_t k = 0; k < n; k++) {
		const struct dpsec_rule *r = &rules[order[k]];
		for (uint32_t i = 0; i < r->n_filters; i++)
			if (ref_match(&r->filters[i], p, false) ||
			    (r->filters[i].mirrored && ref_match(&r->filters[i], p, true)))
				return order[k];
	}
	return NO;
}

/* Random addresses near a few bases so that prefixes overlap. */
static const char *const bases4[] = {"10.0.0.0", "10.1.0.0", "10.1.2.0", "192.168.0.0",
				     "192.168.1.128", "172.16.0.0"};
static const char *const bases6[] = {"2001:db8::", "2001:db8:0:1::", "2001:db8:1::",
				     "fd00::", "2001:db8::ffff:ffff:0:0"};
static const uint8_t lens4[] = {0, 8, 12, 16, 20, 24, 28, 31, 32};
static const uint8_t lens6[] = {0, 16, 31, 32, 33, 48, 63, 64, 65, 96, 100, 120, 127, 128};
static const uint8_t protos[] = {ANY, ANY, TCP, UDP, SCTP, ICMP, ESP, 58};
static const uint16_t port_edges[] = {0, 1, 53, 443, 500, 1023, 1024, 4500, 49151, 49152, 65534, 65535};

#define PICK(x, arr) (arr)[rnd(x, sizeof(arr) / sizeof((arr)[0]))]

static bool ported(uint8_t proto)
{
	return proto == TCP || proto == UDP || proto == SCTP;
}

/* A base address with random bits from bit `from` on. */
static void rand_addr(uint64_t *x, uint8_t family, uint32_t from, uint8_t a[16])
{
	uint32_t bits = family == DPSEC_AF_INET ? 32 : 128;
	uint8_t f;

	parse_addr(family == DPSEC_AF_INET ? PICK(x, bases4) : PICK(x, bases6), &f, a);
	for (uint32_t i = from; i < bits; i++)
		if (rnd(x, 2))
			a[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
}

static void rand_prefix(uint64_t *x, uint8_t family, struct dpsec_prefix *p)
{
	p->addr.family = family;
	if (family == DPSEC_AF_INET)
		p->len = rnd(x, 4) == 0 ? (uint8_t)rnd(x, 33) : PICK(x, lens4);
	else
		p->len = rnd(x, 4) == 0 ? (uint8_t)rnd(x, 129) : PICK(x, lens6);
	/* random bits past the base's prefix, some beyond len (the SPD ignores them) */
	rand_addr(x, family, family == DPSEC_AF_INET ? 24 : 112, p->addr.a);
}

static void rand_range(uint64_t *x, uint16_t *lo, uint16_t *hi)
{
	uint16_t a = PICK(x, port_edges), b = rnd(x, 3) ? PICK(x, port_edges) : a;

	*lo = a < b ? a : b;
	*hi = a < b ? b : a;
}

static void rand_filter(uint64_t *x, uint8_t family, struct dpsec_filter *f)
{
	memset(f, 0, sizeof(*f));
	rand_prefix(x, family, &f->src);
	rand_prefix(x, family, &f->dst);
	f->proto = PICK(x, protos);
	f->mirrored = rnd(x, 2);
	f->sport_hi = f->dport_hi = 65535;
	if (ported(f->proto) && rnd(x, 2))
		rand_range(x, &f->sport_lo, &f->sport_hi);
	if (ported(f->proto) && rnd(x, 2))
		rand_range(x, &f->dport_lo, &f->dport_hi);
}

static void rand_rules(uint64_t *x, struct dpsec_rule *rules, struct dpsec_filter *filters)
{
	for (uint32_t r = 0; r < D_RULES; r++) {
		struct dpsec_rule *rule = &rules[r];
		uint32_t mix = rnd(x, 10); /* 0-4: IPv4, 5-7: IPv6, 8-9: both */

		memset(rule, 0, sizeof(*rule));
		snprintf(rule->name, sizeof(rule->name), "r%u", r);
		rule->priority = rnd(x, 20);
		rule->tunnel = rnd(x, 10) < 3;
		rule->filters = &filters[r * D_FILTERS];
		rule->n_filters = 1 + rnd(x, D_FILTERS);
		for (uint32_t i = 0; i < rule->n_filters; i++) {
			bool v4 = mix < 5 || (mix >= 8 && rnd(x, 2));
			rand_filter(x, v4 ? DPSEC_AF_INET : DPSEC_AF_INET6, &rule->filters[i]);
		}
	}
}

/* An address inside the prefix, or just outside it now and then. */
static void addr_in(uint64_t *x, const struct dpsec_prefix *p, uint8_t a[16])
{
	uint32_t bits = p->addr.family == DPSEC_AF_INET ? 32 : 128;

	memcpy(a, p->addr.a, 16);
	for (uint32_t i = p->len; i < bits; i++)
		if (rnd(x, 2))
			a[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
	if (p->len > 0 && rnd(x, 10) == 0) /* flip the last bit of the prefix */
		a[(p->len - 1) / 8] ^= (uint8_t)(0x80 >> ((p->len - 1) % 8));
}

static uint16_t port_in(uint64_t *x, uint16_t lo, uint16_t hi)
{
	switch (rnd(x, 6)) {
	case 0: return lo;
	case 1: return hi;
	case 2: return (uint16_t)(lo - 1); /* just outside, wrapping at 0 */
	case 3: return (uint16_t)(hi + 1);
	default: return (uint16_t)(lo + rnd(x, (uint32_t)(hi - lo) + 1));
	}
}

/* Mostly a packet aimed at a random filter (either way), else anything. */
static void rand_packet(uint64_t *x, const struct dpsec_rule *rules, struct pkt *p)
{
	const struct dpsec_rule *rule = &rules[rnd(x, D_RULES)];
	const struct dpsec_filter *f = &rule->filters[rnd(x, rule->n_filters)];
	bool swap = rnd(x, 2);

	memset(p, 0, sizeof(*p));
	if (rnd(x, 5) == 0) {
		p->family = rnd(x, 2) ? DPSEC_AF_INET : DPSEC_AF_INET6;
		rand_addr(x, p->family, rnd(x, 2) ? 0 : 16, p->src);
		rand_addr(x, p->family, 16, p->dst);
		p->proto = PICK(x, protos);
		p->sport = ported(p->proto) ? PICK(x, port_edges) : 0;
		p->dport = ported(p->proto) ? PICK(x, port_edges) : 0;
		return;
	}
	p->family = f->src.addr.family;
	addr_in(x, swap ? &f->dst : &f->src, p->src);
	addr_in(x, swap ? &f->src : &f->dst, p->dst);
	p->proto = f->proto != ANY && rnd(x, 8) ? f->proto : PICK(x, protos);
	if (ported(p->proto)) {
		p->sport = swap ? port_in(x, f->dport_lo, f->dport_hi) : port_in(x, f->sport_lo, f->sport_hi);
		p->dport = swap ? port_in(x, f->sport_lo, f->sport_hi) : port_in(x, f->dport_lo, f->dport_hi);
	}
}

START_TEST(test_differential)
{
	uint64_t seed = 0xd1ff0000u + (uint64_t)_i, x = seed * 0x9e3779b97f4a7c15ull | 1;
	struct dpsec_rule *rules = calloc(D_RULES, sizeof(*rules));
	struct dpsec_filter *filters = calloc(D_RULES * D_FILTERS, sizeof(*filters));
	struct pkt *p = calloc(D_PACKETS, sizeof(*p));
	uint32_t *res = calloc(D_PACKETS, sizeof(*res)), order[D_RULES], matched = 0, distinct = 0;
	bool seen[D_RULES] = {false};
	char err[256] = "", name[32];
	struct dp_spd *spd;

	ck_assert(rules != NULL && filters != NULL && p != NULL && res != NULL);
	rand_rules(&x, rules, filters);
	snprintf(name, sizeof(name), "diff%d", _i);
	spd = dp_spd_build(name, rules, D_RULES, SOCKET_ID_ANY, 0, err, sizeof(err));
	ck_assert_msg(spd != NULL, "seed %" PRIu64 ": %s", seed, err);
	ref_order(rules, D_RULES, order);
	for (uint32_t i = 0; i < D_PACKETS; i++)
		rand_packet(&x, rules, &p[i]);
	spd_lookup(spd, p, res, D_PACKETS);
	for (uint32_t i = 0; i < D_PACKETS; i++) {
		uint32_t want = ref_lookup(rules, order, D_RULES, &p[i]);
		EXPECT(res[i] == want, "seed %" PRIu64 " packet %u (%s): rule %d, reference %d", seed, i,
		       pkt_str(&p[i]), (int)res[i], (int)want);
		matched += want != NO;
		if (want != NO && !seen[want])
			distinct += seen[want] = true;
	}
	/* not a vacuous comparison: most packets match, and many rules win */
	ck_assert_msg(matched > D_PACKETS / 2 && distinct > D_RULES / 4,
		      "seed %" PRIu64 ": %u packets matched %u rules", seed, matched, distinct);
	dp_spd_free(spd);
	free(rules);
	free(filters);
	free(p);
	free(res);
}
END_TEST

static Suite *spd_suite(void)
{
	Suite *s = suite_create("spd");
	TCase *tc = tcase_create("spd");

	tcase_add_loop_test(tc, test_table, 0, (int)(sizeof(tcases) / sizeof(tcases[0])));
	tcase_add_test(tc, test_entry_count);
	tcase_add_test(tc, test_memory_bound);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_errors);
	tcase_add_loop_test(tc, test_differential, 0, 10);
	tcase_set_timeout(tc, 240);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	dp_test_eal_init();
	rc = check_run(spd_suite());
	rte_eal_cleanup();
	return rc;
}
