/* cp_ike_auth.c - dpsec-ctld's IKE authentication from the policy store:
 * one key process for the private keys of every certificate method of
 * the store (ctld itself never reads a private key), one built
 * certificate method (ike_cert.h) per distinct method of the store, and
 * the authentication and identities of a rule's IKE policy. A method
 * added by a dynamic change after startup is not built: its rules fall
 * back to their next method, logged (restart dpsec-ctld to load it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cp_ike_auth.h"
#include "ike_cert.h"
#include "ike_keyproc.h"
#include "ikev2_msg.h"

#define MAX_METHODS 64 /* distinct certificate methods of one store */

struct cert_method {
	struct cfg_auth_method conf; /* as in the store: how a rule's method is found again */
	struct ike_cert_auth *ca;
};

struct cp_ike_auth {
	struct ike_keyproc *kp;
	size_t n_keys;
	struct ike_keyproc_key keys[IKE_KEYPROC_KEYS_MAX]; /* pointing into methods' confs */
	size_t n_methods;
	struct cert_method m[MAX_METHODS];
};

/* Every distinct certificate method of the store that has certificates of ours. */
static void methods_collect(struct cp_ike_auth *a, const struct cfg_store *s)
{
	for (uint32_t p = 0; p < s->n_policies; p++)
		for (uint32_t r = 0; r < s->policies[p].n_rules; r++)
			for (uint32_t i = 0; i < s->policies[p].rules[r].n_auth; i++) {
				const struct cfg_auth_method *m = &s->policies[p].rules[r].auth[i];
				bool seen = false;

				for (size_t k = 0; k < a->n_methods && !seen; k++)
					seen = memcmp(&a->m[k].conf, m, sizeof(*m)) == 0;
				if (m->kind != CFG_AUTH_CERT || m->n_certs == 0 || seen)
					continue;
				if (a->n_methods == MAX_METHODS) {
					cp_log(LOG_ERR, "ike: more than %d certificate methods: rule \"%s\" left out",
					       MAX_METHODS, s->policies[p].rules[r].name);
					continue;
				}
				a->m[a->n_methods++].conf = *m;
			}
}

/* The key handle of (cert, key), added to the key process's list if new. */
static int key_handle(struct cp_ike_auth *a, const char *cert, const char *key)
{
	for (size_t i = 0; i < a->n_keys; i++)
		if (strcmp(a->keys[i].cert_path, cert) == 0 && strcmp(a->keys[i].key_path, key) == 0)
			return (int)i;
	if (a->n_keys == IKE_KEYPROC_KEYS_MAX)
		return -1;
	a->keys[a->n_keys] = (struct ike_keyproc_key){ cert, key };
	return (int)a->n_keys++;
}

static int method_build(struct cp_ike_auth *a, struct cert_method *m, struct ike_err *err)
{
	const struct cfg_auth_method *f = &m->conf;
	const char *roots[CFG_MAX_ROOTS], *certs[CFG_MAX_CERTS], *crls[CFG_MAX_CRLS];
	uint16_t handles[CFG_MAX_CERTS];
	struct ike_cert_auth_conf cc = { certs, handles, f->n_certs, a->kp, roots, f->n_roots,
					 crls, f->n_crls, f->revocation, f->rsa_pss };

	for (uint32_t i = 0; i < f->n_roots; i++)
		roots[i] = f->roots[i];
	for (uint32_t i = 0; i < f->n_crls; i++)
		crls[i] = f->crls[i];
	for (uint32_t i = 0; i < f->n_certs; i++) {
		certs[i] = f->certs[i];
		handles[i] = (uint16_t)key_handle(a, f->certs[i], f->keys[i]);
	}
	return ike_cert_auth_new(&cc, &m->ca, err);
}

int cp_ike_auth_open(struct cp_ctx *c, char *err, size_t errlen)
{
	struct cp_ike_auth *a = calloc(1, sizeof(*a));
	struct ike_err ierr = { 0 };
	size_t k;

	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->ike_auth = a;
	methods_collect(a, &c->store);
	for (k = 0; k < a->n_methods; k++)
		for (uint32_t i = 0; i < a->m[k].conf.n_certs; i++)
			if (key_handle(a, a->m[k].conf.certs[i], a->m[k].conf.keys[i]) < 0)
				cp_log(LOG_ERR, "ike: more than %d private keys: %s left out",
				       IKE_KEYPROC_KEYS_MAX, a->m[k].conf.keys[i]);
	if (a->n_keys == 0)
		return 0;
	if (ike_keyproc_start(a->keys, a->n_keys, &a->kp, &ierr) < 0) {
		cp_log(LOG_ERR, "ike: no key process, certificate methods unusable: %s", ierr.msg);
		return 0;
	}
	cp_log(LOG_INFO, "ike: key process %d holds %zu private keys", (int)ike_keyproc_pid(a->kp),
	       a->n_keys);
	for (k = 0; k < a->n_methods; k++)
		if (method_build(a, &a->m[k], &ierr) < 0)
			cp_log(LOG_ERR, "ike: certificate method with %s: %s", a->m[k].conf.certs[0], ierr.msg);
	return 0;
}

int cp_ike_auth_check(const struct cfg_store *s, char *err, size_t errlen)
{
	struct cp_ike_auth *a = calloc(1, sizeof(*a));
	struct ike_err ierr = { 0 };
	int rc = a ? 0 : -1;

	if (a == NULL)
		snprintf(err, errlen, "out of memory");
	if (a)
		methods_collect(a, s);
	for (size_t k = 0; a && k < a->n_methods && rc == 0; k++) {
		for (uint32_t i = 0; i < a->m[k].conf.n_certs && rc == 0; i++)
			if (access(a->m[k].conf.keys[i], R_OK) < 0) {
				snprintf(err, errlen, "certificate %s has no private key: %s: %s",
					 a->m[k].conf.certs[i], a->m[k].conf.keys[i], strerror(errno));
				rc = -1;
			}
		if (rc == 0 && method_build(a, &a->m[k], &ierr) < 0) {
			snprintf(err, errlen, "certificate method with %s: %s", a->m[k].conf.certs[0], ierr.msg);
			rc = -1;
		}
		ike_cert_auth_free(a->m[k].ca);
	}
	free(a);
	return rc;
}

void cp_ike_auth_close(struct cp_ctx *c)
{
	struct cp_ike_auth *a = c->ike_auth;

	if (a == NULL)
		return;
	for (size_t k = 0; k < a->n_methods; k++)
		ike_cert_auth_free(a->m[k].ca);
	ike_keyproc_stop(a->kp);
	free(a);
	c->ike_auth = NULL;
}

static const struct ike_cert_auth *built(const struct cp_ctx *c, const struct cfg_auth_method *m)
{
	const struct cp_ike_auth *a = c->ike_auth;

	for (size_t k = 0; a && k < a->n_methods; k++)
		if (a->m[k].ca && memcmp(&a->m[k].conf, m, sizeof(*m)) == 0)
			return a->m[k].ca;
	return NULL;
}

/* The rule's first method IKE can use; NULL when none. */
static const struct cfg_auth_method *usable(const struct cp_ctx *c, const struct cfg_store_rule *o)
{
	for (uint32_t i = 0; i < o->n_auth; i++)
		if (o->auth[i].kind == CFG_AUTH_PSK || built(c, &o->auth[i]))
			return &o->auth[i];
	return NULL;
}

bool cp_ike_auth_usable(const struct cp_ctx *c, const struct cfg_store_rule *o)
{
	bool ok = usable(c, o) != NULL;

	for (uint32_t i = 0; !ok && i < o->n_auth; i++)
		if (o->auth[i].kind == CFG_AUTH_CERT) {
			cp_log(LOG_WARNING, "ike: rule \"%s\": its certificate method is not loaded (it "
			       "failed at start, see there, or came after it: restart dpsec-ctld)", o->name);
			break;
		}
	return ok;
}

/* The store's identity type; "ip" is our address's family. */
static uint8_t id_type(const struct cfg_auth_method *m, const struct dpsec_addr *local)
{
	if (m->identity == CFG_CERT_ID_IP && local->family == DPSEC_AF_INET6)
		return IKEV2_ID_IPV6_ADDR;
	return m->identity;
}

int cp_ike_auth_for_rule(const struct cp_ctx *c, const struct cfg_store_rule *o,
			 const struct dpsec_addr *local, const struct dpsec_addr *peer,
			 struct ikev2_peer *p, struct ike_err *err)
{
	const struct cfg_auth_method *m = usable(c, o);
	const struct ike_cert_auth *ca = m ? built(c, m) : NULL;

	if (m == NULL)
		return ike_fail(err, -ENOENT, "no pre-shared key nor loaded certificate method");
	if (m->kind == CFG_AUTH_PSK)
		return ike_id_addr(&p->local_id, local, err) || ike_id_addr(&p->remote_id, peer, err) ||
		       ike_auth_psk(&p->local_auth, m->psk, m->psk_len, err) ||
		       ike_auth_psk(&p->remote_auth, m->psk, m->psk_len, err) ? -ENOENT : 0;
	ike_auth_cert(&p->local_auth, ca);
	ike_auth_cert(&p->remote_auth, ca);
	p->remote_id.type = 0; /* any identity its certificate holds */
	return ike_cert_auth_id(ca, id_type(m, local), &p->local_id, err) ? -ENOENT : 0;
}
