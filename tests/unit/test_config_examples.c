/* test_config_examples.c - Check unit tests of the dataplane config
 * loader on the two example gateways (config/examples/): each loads with
 * the expected values, the two match each other (what A sends with, B
 * receives with), and cfg_free() wipes what was loaded and is idempotent.
 * Runs with CK_FORK=no: every test cleans up its files and its struct. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_world.h"
#include "lsan_libconfig.h"

/* ---- the examples ---- */

static int sa_index(const struct cfg_dataplane *cfg, const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg->n_sas; i++)
		if (strcmp(cfg->sas[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void load_example(const char *name, struct cfg_dataplane *cfg)
{
	char path[64], err[CFG_ERR_MAX];

	copy_example(name, 0600, path);
	ck_assert_msg(cfg_load(path, CFG_PERM_REFUSE, cfg, err) == 0, "%s: %s", name, err);
	ck_assert_str_eq(cfg->path, path);
	unlink(path);
}

static void check_gateway_common(const struct cfg_dataplane *cfg)
{
	ck_assert_uint_eq(cfg->opts.workers, 1);
	ck_assert_uint_eq(cfg->opts.idle, CFG_IDLE_SLEEP);
	ck_assert_uint_eq(cfg->opts.idle_sleep_us, 100);
	ck_assert_uint_eq(cfg->n_ports, 2);
	ck_assert_str_eq(cfg->ports[0].name, "lan");
	ck_assert_uint_eq(cfg->ports[0].role, CFG_ROLE_PROTECTED);
	ck_assert_str_eq(cfg->ports[1].name, "wan");
	ck_assert_uint_eq(cfg->ports[1].role, CFG_ROLE_UNPROTECTED);
	ck_assert_uint_eq(cfg->ports[0].n_addrs, 1);
	ck_assert_uint_eq(cfg->ports[1].n_addrs, 1);
	ck_assert_uint_eq(cfg->ports[0].mtu, 0);
	ck_assert_str_eq(cfg->exception_ifname, "dpsec0");
	ck_assert_uint_eq(cfg->n_routes, 1);
	ck_assert_uint_eq(cfg->routes[0].port, 1);
	ck_assert_uint_eq(cfg->n_neighbours, 0);
	ck_assert_uint_eq(cfg->default_action, DPSEC_ACTION_PERMIT);
	ck_assert_uint_eq(cfg->n_rules, 1);
	ck_assert_uint_eq(cfg->rules[0].action, DPSEC_ACTION_NEGOTIATE);
	ck_assert_str_eq(cfg->rules[0].filter_action, "secure");
	ck_assert(cfg->rules[0].tunnel);
	ck_assert_uint_eq(cfg->rules[0].priority, 10);
	ck_assert_uint_eq(cfg->rules[0].n_filters, 1);
	ck_assert(cfg->rules[0].filters[0].mirrored);
	ck_assert_uint_eq(cfg->rules[0].filters[0].proto, 0);
	ck_assert_uint_eq(cfg->rules[0].filters[0].sport_lo, 0);
	ck_assert_uint_eq(cfg->rules[0].filters[0].dport_hi, 65535);
	ck_assert_uint_eq(cfg->n_sas, 2);
}

START_TEST(test_gateway_a)
{
	struct cfg_dataplane cfg;
	const struct dpsec_sa_conf *out, *in;

	load_example("gateway-a.conf", &cfg);
	check_gateway_common(&cfg);
	ck_assert_str_eq(cfg.ports[0].device, "net_af_packet0,iface=gwa-lan");
	ck_assert_str_eq(cfg.ports[1].device, "net_af_packet1,iface=gwa-wan");
	assert_prefix(&cfg.ports[0].addrs[0], "10.1.0.1/24");
	assert_prefix(&cfg.ports[1].addrs[0], "192.0.2.1/24");
	assert_prefix(&cfg.routes[0].dst, "10.2.0.0/24");
	assert_addr(&cfg.routes[0].via, "192.0.2.2");
	ck_assert_str_eq(cfg.rules[0].name, "to-site-b");
	ck_assert_str_eq(cfg.rules[0].filter_list, "lan-a-lan-b");
	assert_addr(&cfg.rules[0].tunnel_endpoint, "192.0.2.2");
	assert_prefix(&cfg.rules[0].filters[0].src, "10.1.0.0/24");
	assert_prefix(&cfg.rules[0].filters[0].dst, "10.2.0.0/24");
	ck_assert_int_eq(cfg.rules[0].sa_out, sa_index(&cfg, "a-to-b"));
	ck_assert_int_eq(cfg.rules[0].sa_in, sa_index(&cfg, "b-to-a"));
	out = &cfg.sas[cfg.rules[0].sa_out];
	in = &cfg.sas[cfg.rules[0].sa_in];
	ck_assert_uint_eq(out->spi, 0x1001);
	ck_assert_uint_eq(out->direction, DPSEC_DIR_OUT);
	ck_assert_uint_eq(out->mode, DPSEC_MODE_TUNNEL);
	assert_addr(&out->local, "192.0.2.1");
	assert_addr(&out->remote, "192.0.2.2");
	ck_assert_uint_eq(out->enc_alg, DPSEC_ENC_AES_GCM_16);
	ck_assert_uint_eq(out->enc_key_len, 16);
	assert_bytes(out->enc_key, "d8b4d74b4165820bc33e142437fe058d", 16);
	assert_bytes(out->salt, "f69dde7d", 4);
	ck_assert_uint_eq(out->integ_alg, DPSEC_INTEG_NONE);
	ck_assert_uint_eq(out->integ_key_len, 0);
	ck_assert_uint_eq(out->replay_window, DPSEC_REPLAY_DEFAULT);
	ck_assert(!out->esn);
	ck_assert_uint_eq(in->spi, 0x2001);
	ck_assert_uint_eq(in->direction, DPSEC_DIR_IN);
	assert_bytes(in->enc_key, "b0c307cd213e3be64f788344c512cb3b", 16);
	assert_bytes(in->salt, "023edbd2", 4);
	ck_assert_uint_eq(in->replay_window, 1024);
	cfg_free(&cfg);
}
END_TEST

START_TEST(test_gateway_b)
{
	struct cfg_dataplane cfg;

	load_example("gateway-b.conf", &cfg);
	check_gateway_common(&cfg);
	ck_assert_str_eq(cfg.ports[0].device, "net_af_packet0,iface=gwb-lan");
	ck_assert_str_eq(cfg.ports[1].device, "net_af_packet1,iface=gwb-wan");
	assert_prefix(&cfg.ports[0].addrs[0], "10.2.0.1/24");
	assert_prefix(&cfg.ports[1].addrs[0], "192.0.2.2/24");
	assert_prefix(&cfg.routes[0].dst, "10.1.0.0/24");
	assert_addr(&cfg.rules[0].tunnel_endpoint, "192.0.2.1");
	assert_prefix(&cfg.rules[0].filters[0].src, "10.2.0.0/24");
	ck_assert_int_eq(cfg.rules[0].sa_out, sa_index(&cfg, "b-to-a"));
	ck_assert_int_eq(cfg.rules[0].sa_in, sa_index(&cfg, "a-to-b"));
	cfg_free(&cfg);
}
END_TEST

/* What A sends with, B receives with: same SPI, key, salt, swapped ends. */
static void assert_sa_pair(const struct dpsec_sa_conf *o, const struct dpsec_sa_conf *i)
{
	ck_assert_str_eq(o->name, i->name);
	ck_assert_uint_eq(o->direction, DPSEC_DIR_OUT);
	ck_assert_uint_eq(i->direction, DPSEC_DIR_IN);
	ck_assert_uint_eq(o->spi, i->spi);
	ck_assert_uint_eq(o->enc_alg, i->enc_alg);
	ck_assert_uint_eq(o->enc_key_len, i->enc_key_len);
	ck_assert_mem_eq(o->enc_key, i->enc_key, o->enc_key_len);
	ck_assert_mem_eq(o->salt, i->salt, sizeof o->salt);
	ck_assert_mem_eq(&o->local, &i->remote, sizeof o->local);
	ck_assert_mem_eq(&o->remote, &i->local, sizeof o->remote);
}

START_TEST(test_gateway_pair_matches)
{
	struct cfg_dataplane a, b;

	load_example("gateway-a.conf", &a);
	load_example("gateway-b.conf", &b);
	assert_sa_pair(&a.sas[a.rules[0].sa_out], &b.sas[b.rules[0].sa_in]);
	assert_sa_pair(&b.sas[b.rules[0].sa_out], &a.sas[a.rules[0].sa_in]);
	ck_assert_mem_eq(&a.rules[0].tunnel_endpoint, &b.sas[b.rules[0].sa_out].local,
			 sizeof a.rules[0].tunnel_endpoint);
	cfg_free(&a);
	cfg_free(&b);
}
END_TEST

/* ---- cfg_free ---- */

START_TEST(test_free_wipes_and_is_idempotent)
{
	struct cfg_dataplane cfg, zero;

	memset(&zero, 0, sizeof zero);
	load_example("gateway-a.conf", &cfg);
	ck_assert_uint_ne(cfg.sas[0].enc_key[0] | cfg.sas[0].enc_key[1], 0);
	cfg_free(&cfg);
	ck_assert_mem_eq(&cfg, &zero, sizeof cfg); /* keys live in freed memory no more */
	cfg_free(&cfg);
	ck_assert_mem_eq(&cfg, &zero, sizeof cfg);
	cfg_free(NULL);
	memset(&cfg, 0, sizeof cfg);
	cfg_free(&cfg);
}
END_TEST

static Suite *config_examples_suite(void)
{
	Suite *s = suite_create("config_examples");
	TCase *ex = tcase_create("examples");
	TCase *fr = tcase_create("free");

	tcase_add_test(ex, test_gateway_a);
	tcase_add_test(ex, test_gateway_b);
	tcase_add_test(ex, test_gateway_pair_matches);
	tcase_add_test(fr, test_free_wipes_and_is_idempotent);
	suite_add_tcase(s, ex);
	suite_add_tcase(s, fr);
	return s;
}

int main(void)
{
	return check_run(config_examples_suite());
}
