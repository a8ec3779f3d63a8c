/* ike_cert_world.h - what the certificate tests (test_ike_cert_trust.c,
 * test_ike_cert_keyproc.c, test_ike_cert_ikev2.c, test_ike_cert_ikev1.c)
 * share: the PKI each program makes with OpenSSL's API (pki_make(): RSA
 * and ECDSA roots, an intermediate, end entities valid, expired, not yet
 * valid, revoked, from an untrusted CA, and CRLs), the test case that
 * makes it (pki_tcase()) and path() to its files; run_cmd() for the
 * openssl command; keyproc_of() and pubkey_of(); and the two-engine
 * harness of the IKEv2 and IKEv1 tests: a side with its certificates, key
 * process and policy (side_policy()), the spy that records what each
 * side's AUTH check saw, pump(), negotiate() and saw_cert(). */
#ifndef IKE_CERT_WORLD_H
#define IKE_CERT_WORLD_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "ike_cert.h"
#include "ike_dh.h"
#include "ike_keyproc.h"
#include "ike_sig.h"
#include "ikev1.h"
#include "ikev2.h"
#include "ikev2_msg.h"

#define DAY (24 * 3600L)

/* ---- the test PKI ------------------------------------------------------ */

static char dir[64];
static char root_a[128], root_b[128]; /* the two trusted roots' files */

/* DIR/name, in one of 32 buffers used in turn: enough for one test's names. */
static inline const char *path(const char *name)
{
	static char buf[32][128];
	static int next;
	char *p = buf[next++ % 32];

	snprintf(p, 128, "%s/%s", dir, name);
	return p;
}

static inline void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ck_assert_ptr_nonnull(ext);
	ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for key, signed by issuer (NULL: self-signed), valid from
 * `from` to `to` seconds from now. */
static inline X509 *cert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
			      long from, long to, const char *san, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"dpsec test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	add_ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (ca)
		add_ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (san)
		add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	ck_assert_int_gt(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()), 0);
	return x;
}

static inline void pem_write(const char *name, X509 *a, X509 *b, EVP_PKEY *key)
{
	FILE *f = fopen(path(name), "w");

	ck_assert_ptr_nonnull(f);
	if (a)
		PEM_write_X509(f, a);
	if (b)
		PEM_write_X509(f, b);
	if (key)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static inline void crl_write(const char *name, X509 *ca, EVP_PKEY *ca_key, long revoked)
{
	X509_CRL *c = X509_CRL_new();
	ASN1_TIME *t = X509_gmtime_adj(NULL, -3600);
	FILE *f = fopen(path(name), "w");

	X509_CRL_set_version(c, 1);
	X509_CRL_set_issuer_name(c, X509_get_subject_name(ca));
	X509_CRL_set1_lastUpdate(c, t);
	X509_gmtime_adj(t, DAY);
	X509_CRL_set1_nextUpdate(c, t);
	if (revoked) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		ASN1_INTEGER_set(s, revoked);
		X509_REVOKED_set_serialNumber(r, s);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(c, r);
		ASN1_INTEGER_free(s);
	}
	X509_CRL_sort(c);
	ck_assert_int_gt(X509_CRL_sign(c, ca_key, EVP_sha256()), 0);
	PEM_write_X509_CRL(f, c);
	fclose(f);
	ASN1_TIME_free(t);
	X509_CRL_free(c);
}

/* An end entity: NAME.pem (with intermediate `with`), NAME.key. */
static inline void ee_write(const char *name, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
			    X509 *with, long from, long to, const char *san, long serial)
{
	char n[64];
	X509 *x = cert_make(name, key, issuer, issuer_key, false, from, to, san, serial);

	snprintf(n, sizeof(n), "%s.pem", name);
	pem_write(n, x, with, NULL);
	snprintf(n, sizeof(n), "%s.key", name);
	pem_write(n, NULL, NULL, key);
	X509_free(x);
}

#define SAN_I "DNS:i.example,email:i@example.com,IP:192.0.2.1"
#define SAN_R "DNS:r.example,IP:198.51.100.1"

static inline void pki_make(void)
{
	EVP_PKEY *ka = EVP_RSA_gen(2048), *ki = EVP_RSA_gen(2048), *kb = EVP_EC_gen("P-256");
	EVP_PKEY *ku = EVP_RSA_gen(2048), *k1 = EVP_RSA_gen(2048), *k2 = EVP_RSA_gen(2048);
	EVP_PKEY *ke = EVP_EC_gen("P-256"), *ke384 = EVP_EC_gen("P-384");
	X509 *ca_a = cert_make("Root A", ka, NULL, NULL, true, -DAY, 30 * DAY, NULL, 1);
	X509 *inter = cert_make("Inter A", ki, ca_a, ka, true, -DAY, 30 * DAY, NULL, 2);
	X509 *ca_b = cert_make("Root B", kb, NULL, NULL, true, -DAY, 30 * DAY, NULL, 3);
	X509 *rogue = cert_make("Rogue Root", ku, NULL, NULL, true, -DAY, 30 * DAY, NULL, 4);

	strcpy(dir, "/tmp/dpsec-cert-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	pem_write("root_a.pem", ca_a, NULL, NULL);
	pem_write("root_b.pem", ca_b, NULL, NULL);
	snprintf(root_a, sizeof(root_a), "%s/root_a.pem", dir);
	snprintf(root_b, sizeof(root_b), "%s/root_b.pem", dir);
	pem_write("rogue.pem", rogue, NULL, NULL);
	ee_write("i_rsa", k1, inter, ki, inter, -DAY, 30 * DAY, SAN_I, 10);
	ee_write("r_rsa", k2, inter, ki, inter, -DAY, 30 * DAY, SAN_R, 11);
	ee_write("r_ec", ke, ca_b, kb, NULL, -DAY, 30 * DAY, SAN_R, 12);
	ee_write("i_ec384", ke384, ca_b, kb, NULL, -DAY, 30 * DAY, SAN_I, 13);
	ee_write("i_rogue", k1, rogue, ku, NULL, -DAY, 30 * DAY, SAN_I, 14);
	ee_write("expired", k1, inter, ki, inter, -2 * DAY, -DAY, SAN_I, 15);
	ee_write("notyet", k1, inter, ki, inter, DAY, 2 * DAY, SAN_I, 16);
	ee_write("revoked", k1, inter, ki, inter, -DAY, 30 * DAY, SAN_I, 17);
	crl_write("inter_a.crl", inter, ki, 17);
	crl_write("root_a.crl", ca_a, ka, 0);
	pem_write("other.key", NULL, NULL, k2);
	X509_free(ca_a), X509_free(inter), X509_free(ca_b), X509_free(rogue);
	EVP_PKEY_free(ka), EVP_PKEY_free(ki), EVP_PKEY_free(kb), EVP_PKEY_free(ku);
	EVP_PKEY_free(k1), EVP_PKEY_free(k2), EVP_PKEY_free(ke), EVP_PKEY_free(ke384);
}

static inline void pki_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A test case with the PKI made once before its tests and removed after
 * them; 120 s a test, for the key generation and the openssl command. */
static inline TCase *pki_tcase(const char *name)
{
	TCase *t = tcase_create(name);

	tcase_add_unchecked_fixture(t, pki_make, pki_remove);
	tcase_set_timeout(t, 120);
	return t;
}

/* The two trusted roots, as the tests name them. */
#define ROOT_A root_a
#define ROOT_B root_b

/* ---- the openssl command, the key process, public keys ----------------- */

/* Output of a shell command, trimmed. */
static inline void run_cmd(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	ck_assert_int_eq(pclose(p), 0);
}

/* A key process holding the keys of NAME.pem/NAME.key for each name. */
static inline struct ike_keyproc *keyproc_of(const char *const *names, size_t n)
{
	struct ike_keyproc_key keys[4];
	static char files[8][128];
	struct ike_keyproc *kp;
	struct ike_err err = { 0 };

	for (size_t i = 0; i < n; i++) {
		snprintf(files[2 * i], 128, "%s/%s.pem", dir, names[i]);
		snprintf(files[2 * i + 1], 128, "%s/%s.key", dir, names[i]);
		keys[i] = (struct ike_keyproc_key){ files[2 * i], files[2 * i + 1] };
	}
	ck_assert_msg(ike_keyproc_start(keys, n, &kp, &err) == 0, "%s", err.msg);
	return kp;
}

/* NAME.pem's end-entity certificate (in *x, to free) and its public key. */
static inline EVP_PKEY *pubkey_of(const char *name, X509 **x)
{
	struct ike_certchain c;
	struct ike_err err = { 0 };
	char file[64];

	snprintf(file, sizeof(file), "%s.pem", name);
	ck_assert_int_eq(ike_certchain_load(path(file), &c, &err), 0);
	*x = c.ee;
	c.ee = NULL;
	ike_certchain_free(&c);
	return X509_get0_pubkey(*x);
}

/* ---- two engines authenticating with certificates ---------------------- */

struct peer_side {
	struct ikev2_engine *e;
	struct ikev1_engine *e1;       /* instead of e: an IKEv1 side */
	struct ike_child child;        /* the last child SA up */
	uint16_t notify;               /* of the last failure */
	struct ike_endpoint ep;
	struct ikev2_peer pol;
	struct ike_cert_auth *ca;
	struct ike_keyproc *kp;
	int ike_up, child_up, failed;
	struct ike_id peer_id;
	char reason[IKE_ERR_MSG_MAX];
};

/* What each side's check saw of the other's AUTH: the method, the
 * AlgorithmIdentifier's OID, the end-entity certificate; [0] the
 * initiator's check, [1] the responder's. Then the real check runs. */
struct seen {
	uint8_t method;
	int aid_nid;
	uint8_t cert[4096];
	size_t cert_len;
};

static struct {
	const struct ike_auth_ops *real;
	const void *initiator_ca;
	struct seen seen[2];
} spy;

static inline int spy_check(const struct ike_auth_conf *c, const struct ike_auth_octets *o, uint8_t method,
			    const uint8_t *data, size_t len, struct ike_err *err)
{
	struct seen *s = &spy.seen[c->ctx == spy.initiator_ca ? 0 : 1];
	struct ike_auth_conf real = *c;
	const unsigned char *p = data + 1;
	X509_ALGOR *alg;

	s->method = method;
	s->aid_nid = NID_undef;
	if (method == IKEV2_AUTH_DIGITAL_SIG && len > 1 && (alg = d2i_X509_ALGOR(NULL, &p, data[0]))) {
		s->aid_nid = OBJ_obj2nid(alg->algorithm);
		X509_ALGOR_free(alg);
	}
	s->cert_len = o->n_certs && o->certs[0].len <= sizeof(s->cert) ? o->certs[0].len : 0;
	if (s->cert_len) /* none when the peer sent no CERT */
		memcpy(s->cert, o->certs[0].p, s->cert_len);
	real.ops = spy.real;
	return spy.real->check(&real, o, method, data, len, err);
}

static struct ike_auth_ops spy_ops;

static inline int lookup(void *ctx, const struct ikev2_lookup *q, struct ikev2_peer *out)
{
	(void)q;
	*out = ((struct peer_side *)ctx)->pol;
	return 0;
}

static const struct ike_mm_method mm = {
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256 }, IKE_DH_ECP_256
};
static const struct ike_qm_method qm = {
	IKE_PROTO_ESP, DPSEC_ENC_AES_GCM_16, 32, DPSEC_INTEG_NONE, 0, false, 3600, 100000
};

static inline struct ike_ts_set ts_of(uint8_t net)
{
	struct dpsec_prefix p = { { .family = DPSEC_AF_INET, .a = { 10, net, 0, 0 } }, 16 };
	struct ike_ts_set s = { .n = 1 };

	s.ts[0] = ike_ts_from_prefix(&p);
	return s;
}

/* A side's policy with our certificates (their keys in a key process of
 * its own), the roots it trusts, RSA-PSS or not, an identity of id_type. */
static inline void side_policy(struct peer_side *s, bool initiator, const char *const *names, size_t n,
			       const char *const *roots, size_t n_roots, bool pss, uint8_t id_type)
{
	char files[2][128];
	const char *certs[2] = { files[0], files[1] };
	uint16_t handles[2] = { 0, 1 };
	struct ike_cert_auth_conf cc = { certs, handles, n, NULL, roots, n_roots, NULL, 0, 0, pss };
	struct ike_err err = { 0 };

	memset(s, 0, sizeof(*s));
	for (size_t k = 0; k < n && k < 2; k++)
		snprintf(files[k], sizeof(files[k]), "%s/%s.pem", dir, names[k]);
	s->kp = cc.kp = keyproc_of(names, n);
	ck_assert_msg(ike_cert_auth_new(&cc, &s->ca, &err) == 0, "%s", err.msg);
	ike_auth_cert(&s->pol.local_auth, s->ca);
	ike_auth_cert(&s->pol.remote_auth, s->ca);
	ck_assert_int_eq(ike_cert_auth_id(s->ca, id_type, &s->pol.local_id, &err), 0);
	s->pol.n_mm = 1, s->pol.mm[0] = mm;
	s->pol.n_qm = 1, s->pol.qm[0] = qm;
	s->pol.ts_local = ts_of(initiator ? 1 : 2);
	s->pol.ts_remote = ts_of(initiator ? 2 : 1);
	s->ep = (struct ike_endpoint){ { .family = DPSEC_AF_INET, .a = { 192, 0, 2, initiator ? 1 : 2 } }, 500 };
}

static inline void side_free(struct peer_side *s)
{
	ikev1_engine_free(s->e1);
	ikev2_engine_free(s->e);
	ike_cert_auth_free(s->ca);
	ike_keyproc_stop(s->kp);
}

/* Takes s's events: datagrams go to `to`, the rest are counted. */
static inline bool pump(struct peer_side *s, struct peer_side *to)
{
	struct ikev2_event ev;
	struct ike_err err = { 0 };
	bool moved = false;

	while (s->e1 ? ikev1_next_event(s->e1, &ev) : ikev2_next_event(s->e, &ev)) {
		if (ev.kind == IKEV2_EV_SEND && to->e1) {
			ikev1_input(to->e1, ev.send.data, ev.send.len, &ev.send.remote, &ev.send.local, 1000, &err);
			moved = true;
		} else if (ev.kind == IKEV2_EV_SEND) {
			ikev2_input(to->e, ev.send.data, ev.send.len, &ev.send.remote, &ev.send.local, 1000, &err);
			moved = true;
		} else if (ev.kind == IKEV2_EV_IKE_UP) {
			s->ike_up++;
			s->peer_id = ev.up.peer_id;
		} else if (ev.kind == IKEV2_EV_CHILD_UP) {
			s->child_up++;
			s->child = *ev.child;
		} else if (ev.kind == IKEV2_EV_FAILED) {
			s->failed++;
			s->notify = ev.reason.notify;
			snprintf(s->reason, sizeof(s->reason), "%s", ev.reason.text);
		}
		ikev2_event_release(&ev);
	}
	return moved;
}

static inline void negotiate(struct peer_side *i, struct peer_side *r)
{
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };

	memset(&spy, 0, sizeof(spy));
	spy.real = r->pol.remote_auth.ops;
	spy.initiator_ca = i->ca;
	spy_ops = *spy.real;
	spy_ops.check = spy_check;
	r->pol.remote_auth.ops = &spy_ops;
	i->pol.remote_auth.ops = &spy_ops;
	if (i->e1)
		ck_assert_msg(ikev1_initiate(i->e1, &i->pol, &i->ep, &r->ep, 1000, &id, &err) == 0, "%s", err.msg);
	else
		ck_assert_msg(ikev2_initiate(i->e, &i->pol, &i->ep, &r->ep, 1000, &id, &err) == 0, "%s", err.msg);
	for (int round = 0; round < 10 && (pump(i, r) | pump(r, i)); round++)
		;
}

/* The DER of NAME's end-entity certificate equals what a check saw. */
static inline bool saw_cert(const struct seen *seen, const char *name)
{
	X509 *x;
	unsigned char *der = NULL;
	int len;
	bool same;

	pubkey_of(name, &x);
	len = i2d_X509(x, &der);
	same = len > 0 && (size_t)len == seen->cert_len && memcmp(der, seen->cert, seen->cert_len) == 0;
	OPENSSL_free(der);
	X509_free(x);
	return same;
}

#endif
