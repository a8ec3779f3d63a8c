/* test_ike_cert_keyproc.c - the key process that alone holds the private
 * keys (ike_keyproc.h) and the signature AUTH data made with it
 * (ike_sig.h): its PKCS#1, PSS and ECDSA signatures, and IKEv1's PKCS#1
 * without DigestInfo, verified by the openssl command (an independent
 * verifier); malformed requests answered with errors while it keeps
 * serving; key loading errors; its exit when the socket closes; one that
 * hangs given up after its timeout; AUTH methods 1, 9, 10 and 14 made and
 * checked, and refused over other octets, with another key or altered. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ike_keyproc.h"
#include "ike_sig.h"
#include "ike_cert_world.h"
#include "check_run.h"

/* ---- the key process ---------------------------------------------------- */

static void file_write(const char *name, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path(name), "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* openssl pkeyutl -verify of sig over the len bytes of digest with NAME's
 * certificate key, with the options given (the digest, the padding). */
static bool openssl_verifies(const char *name, const uint8_t *digest, size_t len, const uint8_t *sig,
			     size_t sig_len, const char *opts)
{
	char cmd[1024], out[256];

	file_write("digest.bin", digest, len);
	file_write("sig.bin", sig, sig_len);
	snprintf(cmd, sizeof(cmd), OPENSSL_BIN " x509 -in %s/%s.pem -noout -pubkey > %s/pub.pem && "
		 OPENSSL_BIN " pkeyutl -verify -pubin -inkey %s/pub.pem -in %s/digest.bin -sigfile %s/sig.bin "
		 "%s 2>&1; true", dir, name, dir, dir, dir, dir, opts);
	run_cmd(cmd, out, sizeof(out));
	return strstr(out, "Signature Verified Successfully") != NULL;
}

#define SHA256_OPT "-pkeyopt digest:sha256 "
#define PSS_OPTS SHA256_OPT "-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32"

START_TEST(key_process_signs_and_openssl_verifies)
{
	const char *names[] = { "i_rsa", "r_ec" };
	struct ike_keyproc *kp = keyproc_of(names, 2);
	uint8_t digest[32], sig[IKE_KEYPROC_SIG_MAX];
	struct ike_err err = { 0 };
	size_t len;

	for (size_t i = 0; i < sizeof(digest); i++)
		digest[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_RSA_PKCS1, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert_uint_eq(len, 256);
	ck_assert(openssl_verifies("i_rsa", digest, 32, sig, len, SHA256_OPT));
	sig[10] ^= 1;
	ck_assert(!openssl_verifies("i_rsa", digest, 32, sig, len, SHA256_OPT)); /* the check can fail */
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_RSA_PSS, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert(openssl_verifies("i_rsa", digest, 32, sig, len, PSS_OPTS));
	ck_assert(!openssl_verifies("i_rsa", digest, 32, sig, len, SHA256_OPT)); /* PSS is not PKCS#1 v1.5 */
	ck_assert_int_eq(ike_keyproc_sign(kp, 1, IKE_SIG_ECDSA, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert(openssl_verifies("r_ec", digest, 32, sig, len, SHA256_OPT));
	ck_assert(!openssl_verifies("i_rsa", digest, 32, sig, len, SHA256_OPT));
	/* IKEv1's SIG: PKCS#1 v1.5 over HASH_I itself, no DigestInfo */
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_RSA_PKCS1, IKE_HASH_NONE, digest, 20, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert(openssl_verifies("i_rsa", digest, 20, sig, len, ""));
	ck_assert(!openssl_verifies("i_rsa", digest, 20, sig, len, "-pkeyopt digest:sha1"));
	ike_keyproc_stop(kp);
}
END_TEST

/* A raw request on the key process's socket and its answer. */
static int raw_request(struct ike_keyproc *kp, const void *req, size_t len, char *text)
{
	struct ike_keyproc_resp r;
	ssize_t n;

	ck_assert_int_eq(send(ike_keyproc_fd(kp), req, len, 0), (ssize_t)len);
	n = recv(ike_keyproc_fd(kp), &r, sizeof(r), 0);
	ck_assert_int_ge(n, (ssize_t)offsetof(struct ike_keyproc_resp, data));
	snprintf(text, 200, "%.*s", r.status ? (int)r.len : 0, (const char *)r.data);
	return r.status;
}

START_TEST(key_process_refuses_malformed_requests)
{
	const char *names[] = { "i_rsa", "r_ec" };
	struct ike_keyproc *kp = keyproc_of(names, 2);
	struct ike_keyproc_req good = { IKE_KEYPROC_MAGIC, 0, IKE_SIG_RSA_PKCS1, IKE_HASH_SHA256, 32, { 1 } };
	struct ike_keyproc_req q;
	struct ike_err err = { 0 };
	uint8_t sig[IKE_KEYPROC_SIG_MAX];
	char text[200];
	size_t len;

	ck_assert_int_eq(raw_request(kp, &good, sizeof(good), text), 0);
	ck_assert_int_eq(raw_request(kp, &good, 5, text), -EINVAL);
	ck_assert_str_eq(text, "request of 5 bytes, expected 76");
	q = good, q.magic = 7;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	ck_assert_ptr_nonnull(strstr(text, "bad magic"));
	q = good, q.handle = 2;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	ck_assert_str_eq(text, "key handle 2: only 2 keys");
	q = good, q.scheme = IKE_SIG_ECDSA;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	ck_assert_ptr_nonnull(strstr(text, "does not fit key 0 (RSA)"));
	q = good, q.scheme = 9;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	q = good, q.hash = 9;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	q = good, q.len = 31;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	ck_assert_str_eq(text, "digest of 31 bytes for hash 2");
	q = good, q.len = 65535;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	q = good, q.scheme = IKE_SIG_RSA_PSS, q.hash = IKE_HASH_NONE;
	ck_assert_int_eq(raw_request(kp, &q, sizeof(q), text), -EINVAL);
	/* still serving, through the client too */
	ck_assert_int_eq(ike_keyproc_sign(kp, 1, IKE_SIG_ECDSA, IKE_HASH_SHA256, good.digest, 32, sig,
					  sizeof(sig), &len, &err), 0);
	ck_assert_int_eq(ike_keyproc_sign(kp, 1, IKE_SIG_RSA_PSS, IKE_HASH_SHA256, good.digest, 32, sig,
					  sizeof(sig), &len, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "key process: signature scheme 2 does not fit key 1 (EC)"));
	ike_keyproc_stop(kp);
}
END_TEST

START_TEST(key_process_load_errors_named)
{
	char cert[128], key[128];
	struct ike_keyproc_key k = { cert, key };
	struct ike_keyproc *kp;
	struct ike_err err = { 0 };

	snprintf(cert, sizeof(cert), "%s/i_rsa.pem", dir);
	snprintf(key, sizeof(key), "%s/none.key", dir);
	ck_assert_int_eq(ike_keyproc_start(&k, 1, &kp, &err), -ENOENT);
	ck_assert_msg(strstr(err.msg, "i_rsa.pem has no private key: ") && strstr(err.msg, "none.key"), "%s", err.msg);
	snprintf(key, sizeof(key), "%s/other.key", dir);
	ck_assert_int_eq(ike_keyproc_start(&k, 1, &kp, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "other.key is not the private key of certificate"), "%s", err.msg);
	ck_assert_int_eq(ike_keyproc_start(&k, 0, &kp, &err), -EINVAL);
}
END_TEST

START_TEST(key_process_exits_when_its_socket_closes)
{
	const char *names[] = { "r_ec" };
	struct ike_keyproc *kp = keyproc_of(names, 1);
	pid_t pid = ike_keyproc_pid(kp);
	int status;

	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(shutdown(ike_keyproc_fd(kp), SHUT_WR), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid); /* it ends by itself */
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(close(ike_keyproc_fd(kp)), 0);
	free(kp); /* already reaped: ike_keyproc_stop() would wait again */
}
END_TEST

/* A key process that stops answering fails the request after its timeout
 * and is stopped: the caller never hangs. */
START_TEST(key_process_that_hangs_is_given_up)
{
	const char *names[] = { "r_ec" };
	struct ike_keyproc *kp = keyproc_of(names, 1);
	uint8_t digest[32] = { 0 }, sig[IKE_KEYPROC_SIG_MAX];
	struct ike_err err = { 0 };
	pid_t pid = ike_keyproc_pid(kp);
	size_t len;

	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_ECDSA, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), -EIO);
	ck_assert_msg(strstr(err.msg, "the key process did not answer"), "%s", err.msg);
	ck_assert_int_eq(kill(pid, 0), -1); /* killed and reaped */
	ck_assert_int_eq(ike_keyproc_sign(kp, 0, IKE_SIG_ECDSA, IKE_HASH_SHA256, digest, 32, sig,
					  sizeof(sig), &len, &err), -EIO);
	ck_assert_str_eq(err.msg, "the key process is gone");
	ike_keyproc_stop(kp);
}
END_TEST

/* ---- signature AUTH data ------------------------------------------------ */

START_TEST(signature_methods_round_trip)
{
	const char *names[] = { "i_rsa", "r_ec", "i_ec384" };
	struct ike_keyproc *kp = keyproc_of(names, 3);
	static const struct {
		uint16_t key;
		bool pss;
		uint16_t peer_hashes;
		uint8_t method;
		size_t len;        /* of the AUTH data, 0: not fixed */
	} cases[] = {
		{ 0, false, 0, IKEV2_AUTH_RSA_SIG, 256 },
		{ 1, false, 0, IKEV2_AUTH_ECDSA_256, 64 },
		{ 2, false, 0, IKEV2_AUTH_ECDSA_384, 96 },
		{ 0, false, IKE_SIG_HASHES, IKEV2_AUTH_DIGITAL_SIG, 1 + 15 + 256 },
		{ 0, true, 1u << IKE_HASH_SHA384, IKEV2_AUTH_DIGITAL_SIG, 1 + 67 + 256 },
		{ 1, false, IKE_SIG_HASHES, IKEV2_AUTH_DIGITAL_SIG, 0 },
	};
	struct ike_chunk octets[] = { IKE_CHUNK("message", 7), IKE_CHUNK("nonce", 5), IKE_CHUNK("id", 2) };
	struct ike_chunk other[] = { IKE_CHUNK("messagf", 7), IKE_CHUNK("nonce", 5), IKE_CHUNK("id", 2) };
	uint8_t out[IKE_AUTH_DATA_MAX], method;
	struct ike_err err = { 0 };
	X509 *x[3];
	EVP_PKEY *pub[3] = { pubkey_of("i_rsa", &x[0]), pubkey_of("r_ec", &x[1]), pubkey_of("i_ec384", &x[2]) };
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ike_signer s = { kp, cases[i].key, pub[cases[i].key], cases[i].pss };

		ck_assert_msg(ike_sig_make(&s, cases[i].peer_hashes, octets, 3, &method, out, sizeof(out),
					   &len, &err) == 0, "case %zu: %s", i, err.msg);
		ck_assert_uint_eq(method, cases[i].method);
		if (cases[i].len)
			ck_assert_uint_eq(len, cases[i].len);
		ck_assert_msg(ike_sig_check(pub[cases[i].key], method, out, len, octets, 3, &err) == 0,
			      "case %zu: %s", i, err.msg);
		ck_assert_int_eq(ike_sig_check(pub[cases[i].key], method, out, len, other, 3, &err), -EACCES);
		ck_assert_int_eq(ike_sig_check(pub[(cases[i].key + 1) % 3], method, out, len, octets, 3, &err) < 0, 1);
		out[len / 2] ^= 0x40;
		ck_assert_int_lt(ike_sig_check(pub[cases[i].key], method, out, len, octets, 3, &err), 0);
	}
	/* not a signature method; a method-14 payload cut short */
	ck_assert_int_eq(ike_sig_check(pub[0], 2, out, 10, octets, 3, &err), -EPROTO);
	ck_assert_int_eq(ike_sig_check(pub[0], IKEV2_AUTH_DIGITAL_SIG, out, 1, octets, 3, &err), -EACCES);
	for (int i = 0; i < 3; i++)
		X509_free(x[i]);
	ike_keyproc_stop(kp);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ike_cert_keyproc");
	TCase *t = pki_tcase("keyproc");

	tcase_add_test(t, key_process_signs_and_openssl_verifies);
	tcase_add_test(t, key_process_refuses_malformed_requests);
	tcase_add_test(t, key_process_load_errors_named);
	tcase_add_test(t, key_process_exits_when_its_socket_closes);
	tcase_add_test(t, key_process_that_hangs_is_given_up);
	tcase_add_test(t, signature_methods_round_trip);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite());
}
