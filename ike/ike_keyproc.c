/* ike_keyproc.c - the key process (ike_keyproc.h): the parent's side
 * (start, sign requests, stop) and the child's (load the keys, check each
 * request, sign). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ike_keyproc.h"

struct ike_keyproc {
	int fd;    /* -1 once the process is gone */
	pid_t pid;
};

#define RESP_HDR_LEN offsetof(struct ike_keyproc_resp, data)

static const struct {
	uint8_t hash;
	const char *md;
	size_t len;
} hashes[] = {
	{ IKE_HASH_SHA1, "SHA1", 20 },     { IKE_HASH_SHA256, "SHA256", 32 },
	{ IKE_HASH_SHA384, "SHA384", 48 }, { IKE_HASH_SHA512, "SHA512", 64 },
};

const char *ike_hash_md(uint8_t hash)
{
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (hashes[i].hash == hash)
			return hashes[i].md;
	return NULL;
}

size_t ike_hash_len(uint8_t hash)
{
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (hashes[i].hash == hash)
			return hashes[i].len;
	return 0;
}

/* ---- the child ---- */

static int resp_fail(struct ike_keyproc_resp *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int resp_fail(struct ike_keyproc_resp *r, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf((char *)r->data, sizeof(r->data), fmt, ap);
	va_end(ap);
	r->status = status;
	r->len = (uint16_t)(n < 0 ? 0 : n >= (int)sizeof(r->data) ? (int)sizeof(r->data) - 1 : n);
	return status;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1; /* encrypted key files are refused, never prompted for */
}

static int key_load(const struct ike_keyproc_key *k, EVP_PKEY **out, struct ike_keyproc_resp *r)
{
	BIO *kb = BIO_new_file(k->key_path, "r"), *cb = BIO_new_file(k->cert_path, "r");
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	int rc = 0;

	*out = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL) : NULL;
	if (x == NULL)
		rc = resp_fail(r, -EINVAL, "certificate file %.200s: cannot read a PEM certificate",
			       k->cert_path);
	else if (*out == NULL)
		rc = resp_fail(r, kb ? -EINVAL : -ENOENT,
			       "certificate %.200s has no private key: %.200s: %s", k->cert_path,
			       k->key_path, kb ? "no unencrypted PEM private key in it" : strerror(ENOENT));
	else if (X509_check_private_key(x, *out) != 1)
		rc = resp_fail(r, -EINVAL, "%.200s is not the private key of certificate %.200s",
			       k->key_path, k->cert_path);
	if (rc) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	ERR_clear_error();
	return rc;
}

/* Every field checked before the key is touched. */
static int req_check(const struct ike_keyproc_req *q, ssize_t n, size_t n_keys, EVP_PKEY *const *keys,
		     struct ike_keyproc_resp *r)
{
	bool rsa;

	if (n != (ssize_t)sizeof(*q))
		return resp_fail(r, -EINVAL, "request of %zd bytes, expected %zu", n, sizeof(*q));
	if (q->magic != IKE_KEYPROC_MAGIC)
		return resp_fail(r, -EINVAL, "request with a bad magic 0x%08x", q->magic);
	if (q->handle >= n_keys)
		return resp_fail(r, -EINVAL, "key handle %u: only %zu keys", q->handle, n_keys);
	rsa = EVP_PKEY_is_a(keys[q->handle], "RSA");
	if (q->scheme < IKE_SIG_RSA_PKCS1 || q->scheme > IKE_SIG_ECDSA)
		return resp_fail(r, -EINVAL, "signature scheme %u unknown", q->scheme);
	if (rsa != (q->scheme != IKE_SIG_ECDSA))
		return resp_fail(r, -EINVAL, "signature scheme %u does not fit key %u (%s)", q->scheme,
				 q->handle, rsa ? "RSA" : "EC");
	if (q->hash == IKE_HASH_NONE ? q->scheme != IKE_SIG_RSA_PKCS1 : ike_hash_md(q->hash) == NULL)
		return resp_fail(r, -EINVAL, "hash %u unknown or not allowed with scheme %u", q->hash,
				 q->scheme);
	if (q->len == 0 || q->len > IKE_KEYPROC_DIGEST_MAX ||
	    (q->hash != IKE_HASH_NONE && q->len != ike_hash_len(q->hash)))
		return resp_fail(r, -EINVAL, "digest of %u bytes for hash %u", q->len, q->hash);
	return 0;
}

static int sign(EVP_PKEY *pk, const struct ike_keyproc_req *q, struct ike_keyproc_resp *r)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
	size_t len = sizeof(r->data);
	int ok = ctx && EVP_PKEY_sign_init(ctx) == 1;

	if (ok && q->scheme != IKE_SIG_ECDSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, q->scheme == IKE_SIG_RSA_PSS ? RSA_PKCS1_PSS_PADDING
										  : RSA_PKCS1_PADDING) == 1;
	if (ok && q->hash != IKE_HASH_NONE)
		ok = EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(ike_hash_md(q->hash))) == 1;
	if (ok && q->scheme == IKE_SIG_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1;
	if (ok)
		ok = EVP_PKEY_sign(ctx, r->data, &len, q->digest, q->len) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		unsigned long e = ERR_get_error();

		ERR_clear_error();
		return resp_fail(r, -EINVAL, "signing failed: %s",
				 e ? ERR_reason_error_string(e) : "no reason given");
	}
	r->status = 0;
	r->len = (uint16_t)len;
	return 0;
}

static void resp_send(int fd, const struct ike_keyproc_resp *r)
{
	if (send(fd, r, RESP_HDR_LEN + r->len, MSG_NOSIGNAL) < 0)
		_exit(1);
}

static void serve(int fd, EVP_PKEY *const *keys, size_t n_keys)
{
	struct ike_keyproc_req q;
	struct ike_keyproc_resp r;
	ssize_t n;

	while ((n = recv(fd, &q, sizeof(q), MSG_TRUNC)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (req_check(&q, n, n_keys, keys, &r) == 0)
			sign(keys[q.handle], &q, &r);
		resp_send(fd, &r);
		OPENSSL_cleanse(&r, sizeof(r));
	}
}

static __attribute__((noreturn)) void child_main(int fd, const struct ike_keyproc_key *keys,
						 size_t n)
{
	EVP_PKEY *pk[IKE_KEYPROC_KEYS_MAX] = { 0 };
	struct ike_keyproc_resp r = { 0 };
	size_t loaded = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0); /* no core file and no ptrace by the same user: the keys stay here */
	close_range(3, (unsigned)fd - 1, 0); /* nothing of the parent's but our socket */
	close_range((unsigned)fd + 1, ~0U, 0);
	while (loaded < n && key_load(&keys[loaded], &pk[loaded], &r) == 0)
		loaded++;
	resp_send(fd, &r);
	if (loaded == n)
		serve(fd, pk, n);
	for (size_t i = 0; i < loaded; i++)
		EVP_PKEY_free(pk[i]);
	_exit(loaded == n ? 0 : 1);
}

/* ---- the parent ---- */

static void gone(struct ike_keyproc *kp)
{
	if (kp->fd >= 0)
		close(kp->fd);
	kp->fd = -1;
	if (kp->pid > 0) {
		kill(kp->pid, SIGKILL);
		waitpid(kp->pid, NULL, 0);
	}
	kp->pid = -1;
}

static int answer_read(struct ike_keyproc *kp, struct ike_keyproc_resp *r, struct ike_err *err)
{
	ssize_t n;

	do
		n = recv(kp->fd, r, sizeof(*r), 0);
	while (n < 0 && errno == EINTR);
	if (n < (ssize_t)RESP_HDR_LEN || (size_t)n != RESP_HDR_LEN + r->len || r->len > sizeof(r->data)) {
		gone(kp);
		return ike_fail(err, -EIO, "the key process did not answer (%s): stopped",
				n < 0 ? strerror(errno) : "short or bad answer");
	}
	if (r->status)
		return ike_fail(err, r->status < 0 ? r->status : -EIO, "key process: %.*s", (int)r->len,
				(const char *)r->data);
	return 0;
}

int ike_keyproc_start(const struct ike_keyproc_key *keys, size_t n, struct ike_keyproc **out,
		      struct ike_err *err)
{
	struct timeval tv = { IKE_KEYPROC_TIMEOUT_MS / 1000, (IKE_KEYPROC_TIMEOUT_MS % 1000) * 1000 };
	struct ike_keyproc_resp r;
	struct ike_keyproc *kp;
	int sv[2], rc;

	*out = NULL;
	if (n == 0 || n > IKE_KEYPROC_KEYS_MAX)
		return ike_fail(err, -EINVAL, "key process: %zu keys (1 to %d)", n, IKE_KEYPROC_KEYS_MAX);
	kp = malloc(sizeof(*kp));
	if (kp == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(kp);
		return ike_fail(err, -errno, "key process: no socket pair: %s", strerror(errno));
	}
	kp->pid = fork();
	if (kp->pid == 0) {
		close(sv[0]);
		child_main(sv[1], keys, n);
	}
	close(sv[1]);
	kp->fd = sv[0];
	if (kp->pid < 0) {
		free(kp);
		close(sv[0]);
		return ike_fail(err, -EAGAIN, "key process: fork failed: %s", strerror(errno));
	}
	setsockopt(kp->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	rc = answer_read(kp, &r, err);
	if (rc) {
		ike_keyproc_stop(kp);
		return rc;
	}
	*out = kp;
	return 0;
}

int ike_keyproc_sign(struct ike_keyproc *kp, uint16_t handle, enum ike_sig_scheme scheme,
		     uint8_t hash, const uint8_t *digest, size_t digest_len, uint8_t *sig,
		     size_t cap, size_t *len, struct ike_err *err)
{
	struct ike_keyproc_req q = { IKE_KEYPROC_MAGIC, handle, (uint8_t)scheme, hash,
				     (uint16_t)digest_len, { 0 } };
	struct ike_keyproc_resp r;
	int rc;

	if (kp->fd < 0)
		return ike_fail(err, -EIO, "the key process is gone");
	if (digest_len > IKE_KEYPROC_DIGEST_MAX)
		return ike_fail(err, -EINVAL, "a digest of %zu bytes (at most %d)", digest_len,
				IKE_KEYPROC_DIGEST_MAX);
	memcpy(q.digest, digest, digest_len);
	if (send(kp->fd, &q, sizeof(q), MSG_NOSIGNAL) != (ssize_t)sizeof(q)) {
		gone(kp);
		return ike_fail(err, -EIO, "the key process took no request: stopped");
	}
	rc = answer_read(kp, &r, err);
	if (rc == 0 && r.len > cap)
		rc = ike_fail(err, -E2BIG, "a signature of %u bytes, room for %zu", r.len, cap);
	if (rc == 0) {
		memcpy(sig, r.data, r.len);
		*len = r.len;
	}
	return rc;
}

void ike_keyproc_stop(struct ike_keyproc *kp)
{
	if (kp == NULL)
		return;
	if (kp->fd >= 0)
		close(kp->fd); /* the child sees the end of its socket and exits */
	kp->fd = -1;
	if (kp->pid > 0)
		waitpid(kp->pid, NULL, 0);
	free(kp);
}

pid_t ike_keyproc_pid(const struct ike_keyproc *kp)
{
	return kp->pid;
}

int ike_keyproc_fd(const struct ike_keyproc *kp)
{
	return kp->fd;
}
