/* ike_cert.h - X.509 certificates for IKE authentication, shared by IKEv2
 * and IKEv1: certificate chains (PEM files, or DER from CERT payloads), a
 * rule's trust (its root CAs in order, CRL files, a revocation level),
 * chain validation through OpenSSL's X509_verify_cert with errors that
 * name the problem, the SHA-1 hashes of the roots' SubjectPublicKeyInfo
 * that IKEv2's CERTREQ carries (IKEv1's: the roots' DNs), and the identities a certificate holds (subject
 * DN, subjectAltName FQDN, RFC 822 address, IP address). No private key
 * is ever read here: those stay in the key process (ike_keyproc.h). */
#ifndef IKE_CERT_H
#define IKE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ike_auth.h"

#define IKE_CERT_CHAIN_MAX 4   /* the end entity and up to 3 intermediates */
#define IKE_CERT_ROOTS_MAX 8   /* trusted root CAs of one rule (CFG_MAX_ROOTS) */
#define IKE_CERT_CRLS_MAX 8    /* CRL files of one rule */
#define IKE_CERT_KEYID_LEN 20  /* SHA-1 of a SubjectPublicKeyInfo (CERTREQ, RFC 7296 §3.7) */

/* Revocation checking, the seeds' StrongCrlCheck. */
enum ike_crl_level {
	IKE_CRL_OFF = 0,     /* no CRL checking */
	IKE_CRL_REVOKED = 1, /* fail only when a CRL says the certificate is revoked */
	IKE_CRL_STRICT = 2,  /* fail on any CRL error too (none for an issuer, expired, bad) */
};

/* A certificate and the intermediates that go with it. */
struct ike_certchain {
	X509 *ee;                 /* the end entity */
	STACK_OF(X509) *inter;    /* intermediates, nearest first; never NULL once loaded */
};

/* The PEM file: the end-entity certificate first, then its intermediates.
 * -ENOENT / -EINVAL naming the file and the problem. */
int ike_certchain_load(const char *path, struct ike_certchain *out, struct ike_err *err);
/* From CERT payload contents (DER), the end entity first. -EBADMSG. */
int ike_certchain_from_der(const struct ike_chunk *der, size_t n, struct ike_certchain *out,
			   struct ike_err *err);
/* DER of each certificate, end entity first, into out[] (OPENSSL_free each
 * p); returns how many (at most cap), or -ENOMEM. */
int ike_certchain_der(const struct ike_certchain *c, struct ike_chunk *out, size_t cap);
void ike_certchain_free(struct ike_certchain *c);

/* "CN=gw1,O=dpsec" for messages: a certificate's subject, or a name
 * (-EINVAL and an empty text when it prints as nothing). */
void ike_cert_name(X509 *x, char *buf, size_t cap);
int ike_dn_text(const X509_NAME *name, char *buf, size_t cap);

/* One rule's trust. */
struct ike_trust;

/* Loads the roots (PEM, one certificate each) now; the CRL files are read
 * at every validation, so that a new CRL counts at once. -ENOENT / -EINVAL
 * naming the file; -EINVAL for a level above 2 or too many files. */
int ike_trust_new(const char *const *roots, size_t n_roots, const char *const *crls,
		  size_t n_crls, enum ike_crl_level level, struct ike_trust **out,
		  struct ike_err *err);
void ike_trust_free(struct ike_trust *t);

size_t ike_trust_n_roots(const struct ike_trust *t);
/* SHA-1 of root i's SubjectPublicKeyInfo. 0 or -EIO. */
int ike_trust_keyid(const struct ike_trust *t, size_t i, uint8_t out[IKE_CERT_KEYID_LEN],
		    struct ike_err *err);

/* DER of root i's subject DN into *der (OPENSSL_free der->p). 0 or -EIO. */
int ike_trust_dn(const struct ike_trust *t, size_t i, struct ike_chunk *der, struct ike_err *err);

/* Validates c against the trust now: 0 with *root the index of the root
 * it chains to, or -EACCES with a sentence: "...has expired", "...is not
 * yet valid", "...chains to no trusted root CA", "...is revoked", "no CRL
 * for issuer ... (revocation level 2)", or OpenSSL's reason. */
int ike_trust_verify(const struct ike_trust *t, const struct ike_certchain *c, size_t *root,
		     struct ike_err *err);

/* Does x hold the identity: a DER DN equal to its subject, or a
 * subjectAltName entry of the ID's type (FQDN, RFC 822, IPv4/IPv6)?
 * 0, or -EACCES naming the identity and the certificate. */
int ike_cert_id_check(X509 *x, const struct ike_id *id, struct ike_err *err);

/* Our identity from our certificate: type IKEV2_ID_DER_ASN1_DN (the
 * subject), or the first subjectAltName of type FQDN, RFC822_ADDR,
 * IPV4_ADDR or IPV6_ADDR. -ENOENT when it holds none of that type. */
int ike_cert_id(X509 *x, uint8_t type, struct ike_id *out, struct ike_err *err);

/* ---- a rule's certificate authentication method (ike_auth_cert.c) ---- */

#define IKE_CERT_CREDS_MAX 4 /* certificates of ours one method may send */

struct ike_keyproc;

struct ike_cert_auth_conf {
	const char *const *certs;     /* our certificate files (PEM: end entity, intermediates), in order */
	const uint16_t *key_handles;  /* each one's private key in the key process */
	size_t n_certs;               /* 0: a method that only checks the peer */
	struct ike_keyproc *kp;       /* NULL: built only to check the files (make() fails) */
	const char *const *roots;     /* trusted root CA files, in order */
	size_t n_roots;
	const char *const *crls;
	size_t n_crls;
	enum ike_crl_level crl_level;
	bool rsa_pss;                 /* RFC 7427 signatures of RSA keys with PSS, else PKCS#1 v1.5 */
};

struct ike_cert_auth;

/* Loads the trust and our certificates, each of which must chain to one of
 * the roots now (else the error says why: expired, no trusted root CA...). */
int ike_cert_auth_new(const struct ike_cert_auth_conf *conf, struct ike_cert_auth **out,
		      struct ike_err *err);
void ike_cert_auth_free(struct ike_cert_auth *ca);

/* The authentication for struct ikev2_peer's local_auth and remote_auth:
 * ops and ctx = ca, which must outlive every SA that uses it. */
void ike_auth_cert(struct ike_auth_conf *c, const struct ike_cert_auth *ca);

/* The certificate we send when the peer's CERTREQ data (SHA-1 hashes of
 * root keys; with dns, IKEv1's DER DNs one after another) is req: the
 * first of ours that chains to a requested root, else the first that
 * chains to our lowest-numbered root (the seeds' rule). Its index, or
 * -ENOENT when we have none. */
int ike_cert_auth_choose(const struct ike_cert_auth *ca, struct ike_chunk req, bool dns);

/* Our identity of that type (ike_cert_id()) from our first certificate. */
int ike_cert_auth_id(const struct ike_cert_auth *ca, uint8_t type, struct ike_id *out,
		     struct ike_err *err);

#endif
