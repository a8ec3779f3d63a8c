/* fuzz_ike_cert.c - libFuzzer target for what certificate authentication
 * takes from the network: byte 0 chooses. 0 and 1: a peer's AUTH payload
 * (method byte 1, data after it: RFC 7427 AlgorithmIdentifiers, RSA-PSS
 * parameters, ECDSA r|s) checked with an RSA (0) or ECDSA (1) public key;
 * 2: CERT payload contents (2-byte lengths, then DER) made into a chain
 * and checked for an identity. Every failure must name its problem. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ike_cert.h"
#include "ike_sig.h"
#include "ikev2_msg.h"

static EVP_PKEY *rsa, *ec;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	rsa = EVP_RSA_gen(1024);
	ec = EVP_EC_gen("P-256");
	if (rsa == NULL || ec == NULL)
		abort();
	return 0;
}

static void failed_well(int rc, const struct ike_err *err)
{
	if (rc >= 0 || err->msg[0] == '\0')
		abort();
}

static void auth(EVP_PKEY *pub, const uint8_t *data, size_t size)
{
	struct ike_chunk octets[] = { IKE_CHUNK("octets", 6) };
	struct ike_err err = { 0 };

	if (size < 1)
		return;
	failed_well(ike_sig_check(pub, data[0], data + 1, size - 1, octets, 1, &err), &err);
}

static void chain(const uint8_t *data, size_t size)
{
	struct ike_chunk der[IKE_CERT_CHAIN_MAX + 1];
	struct ike_certchain c;
	struct ike_err err = { 0 };
	struct ike_id id = { IKEV2_ID_FQDN, 9, "a.example" };
	size_t n = 0, len;
	int rc;

	while (size >= 2 && n < IKE_CERT_CHAIN_MAX + 1) {
		len = (size_t)data[0] << 8 | data[1];
		if (len > size - 2)
			len = size - 2;
		der[n++] = IKE_CHUNK(data + 2, len);
		data += 2 + len;
		size -= 2 + len;
	}
	rc = ike_certchain_from_der(der, n, &c, &err);
	if (rc) {
		failed_well(rc, &err);
		return;
	}
	rc = ike_cert_id_check(c.ee, &id, &err);
	if (rc)
		failed_well(rc, &err);
	ike_certchain_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: auth(rsa, data + 1, size - 1); break;
	case 1: auth(ec, data + 1, size - 1); break;
	default: chain(data + 1, size - 1);
	}
	return 0;
}
