/* ike_keyproc.h - the key process: the only holder of IKE's private keys
 * (STYLE.md, OpenBSD iked's CA process). dpsec-ctld forks it at startup,
 * before it opens any IKE socket; the child loads the private keys and
 * answers sign requests over a socketpair, and parses nothing that came
 * from the network: a request is one fixed-size message (key handle,
 * signature scheme, hash, a digest of at most 64 bytes), checked field by
 * field, answered with a signature or an error naming the problem. The
 * parent keeps no private key. The child exits when its socket closes.
 * Shared by IKEv2 (AUTH signatures) and IKEv1 (Main Mode SIG). */
#ifndef IKE_KEYPROC_H
#define IKE_KEYPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ike_buf.h"

#define IKE_KEYPROC_KEYS_MAX 16    /* private keys one key process holds */
#define IKE_KEYPROC_DIGEST_MAX 64  /* SHA-512 */
#define IKE_KEYPROC_SIG_MAX 1024   /* an RSA-8192 signature */
#define IKE_KEYPROC_TIMEOUT_MS 5000 /* an answer later than this fails the request */

/* How the digest is signed. */
enum ike_sig_scheme {
	IKE_SIG_RSA_PKCS1 = 1, /* RSASSA-PKCS1-v1_5; hash 0: no DigestInfo (IKEv1 SIG) */
	IKE_SIG_RSA_PSS = 2,   /* RSASSA-PSS, MGF1 with the same hash, salt as long as the hash */
	IKE_SIG_ECDSA = 3,     /* ECDSA; the signature is DER (Ecdsa-Sig-Value) */
};

/* Hashes by their RFC 7427 numbers (IKEv2 Hash Algorithms registry). */
enum ike_hash {
	IKE_HASH_NONE = 0,
	IKE_HASH_SHA1 = 1,
	IKE_HASH_SHA256 = 2,
	IKE_HASH_SHA384 = 3,
	IKE_HASH_SHA512 = 4,
};

/* "SHA256" for EVP, its length; NULL / 0 for an unknown hash. */
const char *ike_hash_md(uint8_t hash);
size_t ike_hash_len(uint8_t hash);

/* One private key: the certificate it belongs to (checked against it) and
 * the PEM key file. Its handle is its index. */
struct ike_keyproc_key {
	const char *cert_path;
	const char *key_path;
};

struct ike_keyproc;

/* Forks the key process, which loads the keys and reports. Returns 0, or
 * -ENOENT / -EINVAL naming the first key that failed ("certificate X has no
 * private key: Y: No such file", "Y is not the private key of X"), the
 * child then gone; -EINVAL for no keys or more than IKE_KEYPROC_KEYS_MAX. */
int ike_keyproc_start(const struct ike_keyproc_key *keys, size_t n, struct ike_keyproc **out,
		      struct ike_err *err);

/* Asks for a signature of digest (as long as the hash) by key handle.
 * 0 with sig/len, or the key process's error (-EINVAL naming the bad
 * field), -EIO when it does not answer (then the process is gone). */
int ike_keyproc_sign(struct ike_keyproc *kp, uint16_t handle, enum ike_sig_scheme scheme,
		     uint8_t hash, const uint8_t *digest, size_t digest_len, uint8_t *sig,
		     size_t cap, size_t *len, struct ike_err *err);

/* Closes the socket (the child exits) and reaps the child. */
void ike_keyproc_stop(struct ike_keyproc *kp);

/* For tests: the child's pid, and its socket to send raw requests on. */
pid_t ike_keyproc_pid(const struct ike_keyproc *kp);
int ike_keyproc_fd(const struct ike_keyproc *kp);

/* The fixed-format messages on the socket (SOCK_SEQPACKET: one each). */
#define IKE_KEYPROC_MAGIC 0x644b5031u /* "dKP1" */

struct ike_keyproc_req {
	uint32_t magic;
	uint16_t handle;
	uint8_t scheme;  /* enum ike_sig_scheme */
	uint8_t hash;    /* enum ike_hash */
	uint16_t len;    /* of digest */
	uint8_t digest[IKE_KEYPROC_DIGEST_MAX];
};

struct ike_keyproc_resp {
	int32_t status;  /* 0, or a negative errno */
	uint16_t len;    /* of data: the signature, or the error text */
	uint8_t data[IKE_KEYPROC_SIG_MAX];
};

#endif
