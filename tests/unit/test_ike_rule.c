/* test_ike_rule.c - the per-peer rules of IKE's child SA pairs
 * (control/cp_ike_rule.c): a first pair for a rule and peer gets a new
 * rule, a second one (another IKE SA) shares it, another peer gets its
 * own; the pair a new one replaces (the one its rekey names; IKEv1, whose
 * responder is told nothing, the live pair of that rule and peer) hands
 * its rule over and starts no rekey; when the pair carrying a rule's
 * outbound SA goes, the newest other pair holding the rule carries it on,
 * and the rule goes with the last, even while a pair it replaced lives on
 * (the next packet negotiates again); a replaced pair going, or one whose
 * rule slot holds another rule since, leaves the rules alone, and neither
 * its rekey nor its going hands it another peer's rule. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cp.h"
#include "cp_ike.h"
#include "check_run.h"

#define RULE 7

static struct cp_ctx c;
static const struct dpsec_addr peer = { .family = DPSEC_AF_INET, .a = { 192, 0, 2, 2 } };
static const struct dpsec_addr other_peer = { .family = DPSEC_AF_INET, .a = { 192, 0, 2, 3 } };

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	cp_log_init(LOG_CRIT, false);
	c.ike = calloc(1, sizeof(*c.ike));
}

static void teardown(void)
{
	cp_store_free(&c); /* the (empty) policy cp_ike_rule_for() compiled */
	free(c.ike);
}

/* Child slot i installed as child_up() installs a pair bound to rule d:
 * inbound SPI 0x100 + i, SA ids 2i and 2i + 1, up at up_ns; d carries its
 * outbound SA now. */
static struct cp_ike_child *pair_up(int i, int version, struct cp_dyn_rule *d, uint64_t up_ns)
{
	struct cp_ike_child *s = &c.ike->ch[i];

	*s = (struct cp_ike_child){ .used = true, .version = version, .spi_in = 0x100 + (uint32_t)i,
				    .sa_in = 2 * (uint32_t)i, .sa_out = 2 * (uint32_t)i + 1, .dyn = d,
				    .dyn_id = d->id, .up_ns = up_ns };
	d->sa_out = s->sa_out;
	return s;
}

/* The rule a new pair for RULE and p gets, replacing old (may be NULL),
 * checking how it came by it. */
static struct cp_dyn_rule *rule_for(const struct cp_ike_child *old, const struct dpsec_addr *p,
				    enum cp_ike_rule_how want)
{
	enum cp_ike_rule_how how;
	struct cp_dyn_rule *d = cp_ike_rule_for(&c, old, RULE, p, &how);

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(how, want);
	return d;
}

/* child_down(): s's rule released, then s gone. */
static void pair_down(struct cp_ike_child *s)
{
	cp_ike_rule_release(&c, s);
	s->used = false;
}

START_TEST(test_new_shared_per_peer)
{
	struct cp_dyn_rule *d = rule_for(NULL, &peer, CP_IKE_RULE_NEW), *e;

	ck_assert(d->used);
	ck_assert_uint_eq(d->kind, CP_DYN_SA);
	ck_assert_uint_eq(d->generic_id, RULE);
	ck_assert_mem_eq(&d->peer, &peer, sizeof(peer));
	pair_up(0, 2, d, 1);
	ck_assert_ptr_eq(rule_for(NULL, &peer, CP_IKE_RULE_SHARED), d);
	e = rule_for(NULL, &other_peer, CP_IKE_RULE_NEW);
	ck_assert_ptr_ne(e, d);
	ck_assert_uint_ne(e->id, d->id);
}
END_TEST

START_TEST(test_which_pair_is_replaced)
{
	struct cp_dyn_rule *d = rule_for(NULL, &peer, CP_IKE_RULE_NEW);
	struct cp_ike_child *a = pair_up(0, 1, d, 1), *b;

	/* IKEv1: the live pair of the rule and peer; none for another peer or
	 * rule; IKEv2 only the one its rekey names */
	ck_assert_ptr_eq(cp_ike_rule_replaces(c.ike, 1, 0, RULE, &peer), a);
	ck_assert_ptr_null(cp_ike_rule_replaces(c.ike, 1, 0, RULE, &other_peer));
	ck_assert_ptr_null(cp_ike_rule_replaces(c.ike, 1, 0, RULE + 1, &peer));
	ck_assert_ptr_null(cp_ike_rule_replaces(c.ike, 2, 0, RULE, &peer));
	ck_assert_ptr_eq(cp_ike_rule_replaces(c.ike, 2, a->spi_in, RULE, &peer), a);
	/* b replaces a, which hands its rule over and starts no rekey; the
	 * next Quick Mode replaces b */
	ck_assert_ptr_eq(rule_for(a, &peer, CP_IKE_RULE_OF_REPLACED), d);
	b = pair_up(1, 1, d, 2);
	cp_ike_rule_replaced(a);
	ck_assert_ptr_null(a->dyn);
	ck_assert(a->rekeying);
	ck_assert_uint_eq(d->sa_out, b->sa_out);
	ck_assert_ptr_eq(cp_ike_rule_replaces(c.ike, 1, 0, RULE, &peer), b);
}
END_TEST

/* An IKEv1 pair *a, then *b replacing it as child_up() does; returns the
 * rule. */
static struct cp_dyn_rule *pair_replaced(struct cp_ike_child **a, struct cp_ike_child **b)
{
	struct cp_dyn_rule *d = rule_for(NULL, &peer, CP_IKE_RULE_NEW);

	*a = pair_up(0, 1, d, 1);
	*b = pair_up(1, 1, rule_for(*a, &peer, CP_IKE_RULE_OF_REPLACED), 2);
	cp_ike_rule_replaced(*a);
	return d;
}

/* The replacement goes first (the peer deletes the newer pair): the rule
 * goes with it, though the replaced pair is still up. */
START_TEST(test_newer_pair_going_takes_the_rule)
{
	struct cp_ike_child *a, *b;
	struct cp_dyn_rule *d = pair_replaced(&a, &b);

	pair_down(b);
	ck_assert(!d->used);
	ck_assert(a->used);
}
END_TEST

/* The replaced pair goes first, as usual: the rule stays with the new one
 * and goes with it. */
START_TEST(test_replaced_pair_goes_first)
{
	struct cp_ike_child *a, *b;
	struct cp_dyn_rule *d = pair_replaced(&a, &b);

	pair_down(a);
	ck_assert(d->used);
	ck_assert_uint_eq(d->sa_out, b->sa_out);
	pair_down(b);
	ck_assert(!d->used);
}
END_TEST

/* Three pairs share a rule: the carrier goes, the newest of the others
 * carries it on, wherever it sits in the table. */
START_TEST(test_newest_other_pair_is_heir)
{
	struct cp_dyn_rule *d = rule_for(NULL, &peer, CP_IKE_RULE_NEW);
	struct cp_ike_child *oldest = pair_up(0, 2, d, 10), *newest, *carrier;

	newest = pair_up(1, 2, rule_for(NULL, &peer, CP_IKE_RULE_SHARED), 30);
	pair_up(2, 2, rule_for(NULL, &peer, CP_IKE_RULE_SHARED), 20);
	carrier = pair_up(3, 2, rule_for(NULL, &peer, CP_IKE_RULE_SHARED), 40);
	pair_down(carrier);
	ck_assert_uint_eq(d->sa_out, newest->sa_out);
	pair_down(oldest); /* does not carry it: nothing moves */
	ck_assert(d->used);
	ck_assert_uint_eq(d->sa_out, newest->sa_out);
}
END_TEST

/* A pair whose rule slot was reset with a restarted dpsecd and holds
 * another rule now (here a fallback's block rule, which no pair holds)
 * leaves it alone when it goes. */
START_TEST(test_rule_of_another_left_alone)
{
	struct cp_dyn_rule *d = rule_for(NULL, &peer, CP_IKE_RULE_NEW), *block;
	struct cp_ike_child *a = pair_up(0, 2, d, 1);

	memset(c.dyn, 0, sizeof(c.dyn)); /* as ctld does for a new dpsecd */
	block = cp_dyn_add(&c, CP_DYN_BLOCK, RULE, "fallback", &peer, UINT64_MAX);
	ck_assert_ptr_eq(block, d);
	pair_down(a);
	ck_assert(block->used);
}
END_TEST

/* A pair whose rule went (its generic rule left the policy, or ctld
 * detached) while another peer's pair got the slot: its rekey gets a rule
 * of its own, not the other peer's (which would carry this peer's SA, the
 * other peer's traffic leaving on it), and neither its going nor the other
 * pair's hands the other peer's rule to it. */
START_TEST(test_reused_slot_not_taken_over)
{
	struct cp_dyn_rule *d = rule_for(NULL, &peer, CP_IKE_RULE_NEW), *e;
	struct cp_ike_child *a = pair_up(0, 2, d, 1), *b;

	d->used = false; /* as the sync drops a rule whose generic rule left */
	e = rule_for(NULL, &other_peer, CP_IKE_RULE_NEW);
	ck_assert_ptr_eq(e, d); /* the same slot */
	b = pair_up(1, 2, e, 2);
	ck_assert_ptr_ne(rule_for(a, &peer, CP_IKE_RULE_NEW), e);
	pair_down(b); /* a is no heir: the rule goes with b */
	ck_assert(!e->used);
	e = rule_for(NULL, &other_peer, CP_IKE_RULE_NEW);
	b = pair_up(1, 2, e, 3);
	pair_down(a); /* leaves the other peer's rule alone */
	ck_assert(e->used);
	ck_assert_uint_eq(e->sa_out, b->sa_out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ike_rule");
	TCase *tc = tcase_create("rule");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_new_shared_per_peer);
	tcase_add_test(tc, test_which_pair_is_replaced);
	tcase_add_test(tc, test_newer_pair_going_takes_the_rule);
	tcase_add_test(tc, test_replaced_pair_goes_first);
	tcase_add_test(tc, test_newest_other_pair_is_heir);
	tcase_add_test(tc, test_rule_of_another_left_alone);
	tcase_add_test(tc, test_reused_slot_not_taken_over);
	suite_add_tcase(s, tc);
	return check_run(s);
}
