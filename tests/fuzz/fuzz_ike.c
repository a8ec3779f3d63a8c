/* fuzz_ike.c - libFuzzer target for the IKE message codec: the input is
 * parsed as an IKEv2 message, as an ISAKMP message, and as decrypted
 * payload chains of both (first payload type taken from byte 0). Whatever
 * parses is described, rebuilt, and the rebuilt bytes must parse again and
 * rebuild to themselves (the codec's canonical form is stable); a failed
 * parse must leave a message naming the problem. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_msg.h"

static uint8_t out1[IKE_MSG_MAX + 64], out2[IKE_MSG_MAX + 64];
static char text[8192];

static void check_failed(int rc, const struct ike_err *err)
{
	if (rc >= 0 || err->code != rc || err->msg[0] == '\0')
		abort();
}

static void fuzz_ikev2(const uint8_t *data, size_t size)
{
	struct ikev2_msg m, m2;
	struct ike_err err = { 0 };
	size_t n1, n2;
	int rc = ikev2_msg_parse(data, size, &m, &err);

	if (rc) {
		check_failed(rc, &err);
		return;
	}
	ikev2_msg_describe(&m, text, sizeof(text));
	if (ikev2_msg_rebuild(&m, out1, sizeof(out1), &n1, &err) ||
	    ikev2_msg_parse(out1, n1, &m2, &err) ||
	    ikev2_msg_rebuild(&m2, out2, sizeof(out2), &n2, &err) || n1 != n2 ||
	    memcmp(out1, out2, n1) != 0 || m2.n != m.n)
		abort();
}

static void fuzz_isakmp(const uint8_t *data, size_t size)
{
	struct isakmp_msg m, m2;
	struct ike_err err = { 0 };
	size_t n1, n2;
	int rc = isakmp_msg_parse(data, size, &m, &err);

	if (rc) {
		check_failed(rc, &err);
		return;
	}
	isakmp_msg_describe(&m, text, sizeof(text));
	if (isakmp_msg_rebuild(&m, out1, sizeof(out1), &n1, &err) ||
	    isakmp_msg_parse(out1, n1, &m2, &err) ||
	    isakmp_msg_rebuild(&m2, out2, sizeof(out2), &n2, &err) || n1 != n2 ||
	    memcmp(out1, out2, n1) != 0 || m2.n != m.n)
		abort();
}

static void fuzz_chains(const uint8_t *data, size_t size)
{
	struct ikev2_msg m2 = { 0 };
	struct isakmp_msg m1 = { 0 };
	struct ike_err err = { 0 };
	int rc;

	if (size < 1)
		return;
	rc = ikev2_chain_parse(data[0], data + 1, size - 1, &m2, &err);
	if (rc)
		check_failed(rc, &err);
	rc = isakmp_chain_parse(data[0], data + 1, size - 1, &m1, &err);
	if (rc)
		check_failed(rc, &err);
	if (rc == 0 && (size_t)m1.pad_len > size - 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ikev2(data, size);
	fuzz_isakmp(data, size);
	fuzz_chains(data, size);
	ike_msg_describe(data, size, text, sizeof(text));
	return 0;
}
