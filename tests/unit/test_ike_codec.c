/* test_ike_codec.c - Check unit tests of the IKEv2 codec and of what it
 * shares with ISAKMP (ike_buf, the SA payload body): the reader/writer
 * bounds and messages; every payload from hand-written bytes (parse, check
 * the fields, build, compare bytes); a hand-written IKE_SA_INIT made by the
 * builder; messages made by scapy (tests/unit/ike_vectors) parsed and their
 * fields asserted; random well-formed messages round-tripped; and a table
 * of malformed messages, each failing with its errno, a fragment of its
 * message and the notify a responder would send. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike_msg.h"
#include "ike_vendor.h"
#include "ike_test_util.h"
#include "check_run.h"

#define BUF 4096

/* ---- ike_buf ---- */

START_TEST(reader_stops_at_the_end_and_names_the_field)
{
	const uint8_t b[3] = { 1, 2, 3 };
	struct ike_err err = { 0 };
	struct ike_rd r;
	uint16_t v16;
	uint32_t v32;
	uint8_t v8;

	ike_rd_init(&r, b, sizeof(b), "KE payload", &err);
	ck_assert_int_eq(ike_rd_u16(&r, "DH group", &v16), 0);
	ck_assert_uint_eq(v16, 0x0102);
	ck_assert_int_eq(ike_rd_u32(&r, "thing", &v32), -EBADMSG);
	ck_assert_str_eq(err.msg, "KE payload: thing needs 4 bytes, 1 left");
	ck_assert_uint_eq(r.off, 2); /* a failed read does not move */
	ck_assert_int_eq(ike_rd_u8(&r, "last", &v8), 0);
	ck_assert_uint_eq(v8, 3);
	ck_assert_int_eq(ike_rd_u8(&r, "more", &v8), -EBADMSG);
}
END_TEST

START_TEST(substructure_lengths_are_checked_against_what_is_left)
{
	/* a proposal claiming 12 bytes where 8 are left */
	const uint8_t b[8] = { 0, 0, 0, 12, 1, 1, 0, 1 };
	struct ike_err err = { 0 };
	struct ike_rd r, body;
	uint8_t a, c;

	ike_rd_init(&r, b, sizeof(b), "SA payload", &err);
	ck_assert_int_eq(ike_rd_struct(&r, "proposal length", 8, &a, &c, &body, "P"), -EBADMSG);
	ck_assert_str_eq(err.msg, "SA payload: proposal length 12 exceeds the 8 bytes left");
	ck_assert_uint_eq(r.off, 0);
}
END_TEST

START_TEST(writer_never_passes_its_capacity)
{
	uint8_t buf[8 + 4];
	struct ike_err err = { 0 };
	struct ike_wr w;

	memset(buf, 0xee, sizeof(buf));
	ike_wr_init(&w, buf, 8);
	ike_wr_u32(&w, 0x01020304);
	ike_wr_u16(&w, 0x0506);
	ike_wr_u32(&w, 0x0708090a); /* does not fit: dropped */
	ike_wr_u8(&w, 0x0b);        /* nor anything after */
	ck_assert(w.overflow);
	ck_assert_uint_eq(w.len, 6);
	for (size_t i = 6; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0xee);
	ck_assert_int_eq(ike_wr_done(&w, "IKEv2 message", &err), -ENOSPC);
	ck_assert_str_eq(err.msg, "IKEv2 message: does not fit the 8-byte output buffer");
}
END_TEST

/* ---- payload bodies from hand-written bytes ---- */

/* Parses hex as a body of type, rebuilds it and checks the bytes match. */
static void body_roundtrip(uint8_t type, const char *hex, union ikev2_body *out)
{
	uint8_t in[512], again[512];
	struct ike_err err = { 0 };
	struct ike_wr w;
	size_t n = hex2bin(hex, in, sizeof(in));

	ck_assert_msg(ikev2_body_parse(type, in, n, out, &err) == 0, "%s: %s",
		      ikev2_payload_name(type), err.msg);
	ike_wr_init(&w, again, sizeof(again));
	ikev2_body_build(type, out, &w);
	ck_assert(!w.overflow);
	ck_assert_uint_eq(w.len, n);
	ck_assert_mem_eq(again, in, n);
	/* the blobs point into a stack buffer: re-parse from a stable copy */
}

static uint8_t keep[512];

static void body_parse_kept(uint8_t type, const char *hex, union ikev2_body *out)
{
	size_t n;

	body_roundtrip(type, hex, out);
	n = hex2bin(hex, keep, sizeof(keep));
	ck_assert_int_eq(ikev2_body_parse(type, keep, n, out, NULL), 0);
}

START_TEST(sa_payload_two_proposals)
{
	union ikev2_body b;
	const struct ike_sa *sa = &b.sa;
	const struct ike_attr *kl;

	body_parse_kept(IKEV2_PL_SA,
			/* proposal 1, IKE, no SPI, 3 transforms */
			"02 00 0024 01 01 00 03"
			"  03 00 000c 01 00 0014 800e 0080" /* ENCR AES_GCM_16 / 128 */
			"  03 00 0008 02 00 0005"           /* PRF HMAC_SHA2_256 */
			"  00 00 0008 04 00 001f"           /* DH Curve25519 */
			/* proposal 2, ESP, SPI 0xc0ffee01, 2 transforms */
			"00 00 001c 02 03 04 02 c0ffee01"
			"  03 00 0008 01 00 000c"
			"  00 00 0008 05 00 0000",
			&b);
	ck_assert_uint_eq(sa->n_prop, 2);
	ck_assert_uint_eq(sa->prop[0].num, 1);
	ck_assert_uint_eq(sa->prop[0].protocol, IKE_PROTO_IKE);
	ck_assert_uint_eq(sa->prop[0].n_tr, 3);
	ck_assert_uint_eq(sa->tr[0].type, IKEV2_TR_ENCR);
	ck_assert_uint_eq(sa->tr[0].id, 20);
	kl = ike_tr_attr(sa, &sa->tr[0], IKEV2_ATTR_KEY_LENGTH);
	ck_assert_ptr_nonnull(kl);
	ck_assert(kl->tv);
	ck_assert_uint_eq(kl->tv_value, 128);
	ck_assert_uint_eq(sa->tr[2].id, 31);
	ck_assert_uint_eq(sa->prop[1].protocol, IKE_PROTO_ESP);
	ck_assert_uint_eq(sa->prop[1].spi_len, 4);
	ck_assert_mem_eq(sa->prop[1].spi, "\xc0\xff\xee\x01", 4);
	ck_assert_uint_eq(sa->prop[1].tr0, 3);
	ck_assert_uint_eq(sa->tr[4].type, IKEV2_TR_ESN);
	ck_assert_ptr_null(ike_tr_attr(sa, &sa->tr[4], IKEV2_ATTR_KEY_LENGTH));
}
END_TEST

START_TEST(ke_id_cert_auth_nonce_vendor)
{
	union ikev2_body b;

	body_parse_kept(IKEV2_PL_KE, "0013 0000 0102030405060708", &b);
	ck_assert_uint_eq(b.ke.group, 19);
	ck_assert_uint_eq(b.ke.data.len, 8);
	ck_assert_uint_eq(b.ke.data.p[7], 8);
	body_parse_kept(IKEV2_PL_IDI, "01 000000 c0000201", &b);
	ck_assert_uint_eq(b.id.type, IKEV2_ID_IPV4_ADDR);
	ck_assert_mem_eq(b.id.data.p, "\xc0\x00\x02\x01", 4);
	body_parse_kept(IKEV2_PL_IDR, "05 000000 20010db8000000000000000000000001", &b);
	ck_assert_uint_eq(b.id.type, IKEV2_ID_IPV6_ADDR);
	body_parse_kept(IKEV2_PL_IDR, "02 000000 67772e6578616d706c65", &b); /* gw.example */
	ck_assert_uint_eq(b.id.type, IKEV2_ID_FQDN);
	ck_assert_mem_eq(b.id.data.p, "gw.example", 10);
	body_parse_kept(IKEV2_PL_IDI, "03 000000 614062", &b); /* a@b */
	ck_assert_uint_eq(b.id.type, IKEV2_ID_RFC822_ADDR);
	body_parse_kept(IKEV2_PL_IDI, "09 000000 3000", &b);
	ck_assert_uint_eq(b.id.type, IKEV2_ID_DER_ASN1_DN);
	body_parse_kept(IKEV2_PL_IDI, "0b 000000 abcd", &b);
	ck_assert_uint_eq(b.id.type, IKEV2_ID_KEY_ID);
	body_parse_kept(IKEV2_PL_CERT, "04 308201", &b);
	ck_assert_uint_eq(b.cert.encoding, 4);
	ck_assert_uint_eq(b.cert.data.len, 3);
	body_parse_kept(IKEV2_PL_CERTREQ, "04 0102030405060708090a0b0c0d0e0f1011121314", &b);
	ck_assert_uint_eq(b.cert.data.len, 20);
	body_parse_kept(IKEV2_PL_AUTH, "02 000000 aabbccdd", &b);
	ck_assert_uint_eq(b.auth.method, 2);
	ck_assert_uint_eq(b.auth.data.len, 4);
	body_parse_kept(IKEV2_PL_NONCE, "000102030405060708090a0b0c0d0e0f", &b);
	ck_assert_uint_eq(b.nonce.len, 16);
	body_parse_kept(IKEV2_PL_VENDOR, "882fe56d6fd20dbc2251613b2ebe5beb", &b);
	ck_assert_uint_eq(b.vendor.len, 16);
}
END_TEST

START_TEST(notify_types)
{
	union ikev2_body b;

	body_parse_kept(IKEV2_PL_NOTIFY, "00 00 4006 0102", &b); /* COOKIE */
	ck_assert_uint_eq(b.notify.type, IKEV2_N_COOKIE);
	ck_assert_str_eq(ikev2_notify_name(b.notify.type), "COOKIE");
	ck_assert_uint_eq(b.notify.data.len, 2);
	body_parse_kept(IKEV2_PL_NOTIFY, "00 00 4005 00112233445566778899aabbccddeeff00112233", &b);
	ck_assert_str_eq(ikev2_notify_name(b.notify.type), "NAT_DETECTION_DESTINATION_IP");
	body_parse_kept(IKEV2_PL_NOTIFY, "00 00 0011 000e", &b);
	ck_assert_str_eq(ikev2_notify_name(b.notify.type), "INVALID_KE_PAYLOAD");
	body_parse_kept(IKEV2_PL_NOTIFY, "03 04 4009 12345678", &b);
	ck_assert_str_eq(ikev2_notify_name(b.notify.type), "REKEY_SA");
	ck_assert_uint_eq(b.notify.protocol, IKE_PROTO_ESP);
	ck_assert_mem_eq(b.notify.spi, "\x12\x34\x56\x78", 4);
	body_parse_kept(IKEV2_PL_NOTIFY, "00 00 4007", &b);
	ck_assert_str_eq(ikev2_notify_name(b.notify.type), "USE_TRANSPORT_MODE");
	body_parse_kept(IKEV2_PL_NOTIFY, "00 00 402e", &b);
	ck_assert_str_eq(ikev2_notify_name(b.notify.type), "IKEV2_FRAGMENTATION_SUPPORTED");
	body_parse_kept(IKEV2_PL_NOTIFY, "00 00 402f 0002 0003 0004", &b);
	ck_assert_str_eq(ikev2_notify_name(b.notify.type), "SIGNATURE_HASH_ALGORITHMS");
	body_parse_kept(IKEV2_PL_NOTIFY, "01 08 000b 0102030405060708", &b);
	ck_assert_uint_eq(b.notify.spi_len, 8);
	ck_assert_str_eq(ikev2_notify_name(1), "UNSUPPORTED_CRITICAL_PAYLOAD");
	ck_assert_str_eq(ikev2_notify_name(16388), "NAT_DETECTION_SOURCE_IP");
	ck_assert_ptr_null(ikev2_notify_name(12345));
}
END_TEST

START_TEST(delete_ts_cp_eap_skf)
{
	union ikev2_body b;

	body_parse_kept(IKEV2_PL_DELETE, "03 04 0002 11111111 22222222", &b);
	ck_assert_uint_eq(b.del.n_spi, 2);
	ck_assert_uint_eq(b.del.spis[4], 0x22);
	body_parse_kept(IKEV2_PL_DELETE, "01 00 0000", &b);
	ck_assert_uint_eq(b.del.protocol, IKE_PROTO_IKE);
	body_parse_kept(IKEV2_PL_TSI,
			"02 000000"
			"07 06 0010 0000 ffff 0a000000 0affffff"
			"08 11 0028 01f4 01f4 20010db8000000000000000000000000"
			"20010db800000000ffffffffffffffff",
			&b);
	ck_assert_uint_eq(b.ts.n, 2);
	ck_assert_uint_eq(b.ts.ts[0].ip_proto, 6);
	ck_assert_uint_eq(b.ts.ts[0].port_hi, 65535);
	ck_assert_mem_eq(b.ts.ts[0].addr_hi, "\x0a\xff\xff\xff", 4);
	ck_assert_uint_eq(b.ts.ts[1].type, IKEV2_TS_IPV6_ADDR_RANGE);
	ck_assert_uint_eq(b.ts.ts[1].port_lo, 500);
	ck_assert_uint_eq(b.ts.ts[1].addr_hi[15], 0xff);
	body_parse_kept(IKEV2_PL_CP, "01 000000 0001 0000 0003 0004 08080808", &b);
	ck_assert_uint_eq(b.cp.cfg_type, 1);
	ck_assert_uint_eq(b.cp.n, 2);
	ck_assert_uint_eq(b.cp.attr[1].type, 3);
	ck_assert_uint_eq(b.cp.attr[1].value.len, 4);
	body_parse_kept(IKEV2_PL_EAP, "01 07 0009 01 75736572", &b);
	ck_assert_uint_eq(b.eap.code, 1);
	ck_assert_uint_eq(b.eap.id, 7);
	body_parse_kept(IKEV2_PL_SKF, "0002 0003 00112233445566778899", &b);
	ck_assert_uint_eq(b.skf.number, 2);
	ck_assert_uint_eq(b.skf.total, 3);
	ck_assert_uint_eq(b.skf.rest.len, 10);
}
END_TEST

START_TEST(sk_split_gives_iv_ciphertext_icv)
{
	uint8_t body[40];
	struct ikev2_sk sk;
	struct ike_err err = { 0 };

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)i;
	ck_assert_int_eq(ikev2_sk_split(body, sizeof(body), 8, 16, &sk, &err), 0);
	ck_assert_ptr_eq(sk.iv.p, body);
	ck_assert_uint_eq(sk.iv.len, 8);
	ck_assert_ptr_eq(sk.ct.p, body + 8);
	ck_assert_uint_eq(sk.ct.len, 16);
	ck_assert_ptr_eq(sk.icv.p, body + 24);
	ck_assert_uint_eq(sk.icv.len, 16);
	ck_assert_int_eq(ikev2_sk_split(body, 23, 8, 16, &sk, &err), -EBADMSG);
	ck_assert_str_eq(err.msg, "SK payload: 23 bytes cannot hold a 8-byte IV and a 16-byte ICV");
}
END_TEST

/* Bodies that must be refused: {type, hex, errno, fragment}. */
static const struct {
	uint8_t type;
	const char *hex;
	int code;
	const char *fragment;
} bad_bodies[] = {
	{ IKEV2_PL_KE, "000e", -EBADMSG, "KE payload: reserved needs 2 bytes, 0 left" },
	{ IKEV2_PL_KE, "000e 0000", -EBADMSG, "no key exchange data for group 14" },
	{ IKEV2_PL_IDI, "01 000000 c00002", -EBADMSG, "IPV4_ADDR of 3 bytes, not 4" },
	{ IKEV2_PL_IDI, "05 000000 c0000201", -EBADMSG, "IPV6_ADDR of 4 bytes, not 16" },
	{ IKEV2_PL_IDI, "02 000000", -EBADMSG, "empty FQDN" },
	{ IKEV2_PL_IDI, "04 000000 c0000201", -EBADMSG, "ID type 4 is not defined" },
	{ IKEV2_PL_AUTH, "02 000000", -EBADMSG, "no authentication data" },
	{ IKEV2_PL_NONCE, "000102030405060708090a0b0c0d0e", -EBADMSG, "15 bytes, outside 16..256" },
	{ IKEV2_PL_NOTIFY, "00 00 4004 0011", -EBADMSG, "NAT_DETECTION_SOURCE_IP: 2 bytes of data, expected 20..20" },
	{ IKEV2_PL_NOTIFY, "00 00 0011", -EBADMSG, "INVALID_KE_PAYLOAD: 0 bytes" },
	{ IKEV2_PL_NOTIFY, "00 00 402f 000200", -EBADMSG, "odd length 3" },
	{ IKEV2_PL_NOTIFY, "00 00 4009", -EBADMSG, "REKEY_SA: needs the 4-byte SPI" },
	{ IKEV2_PL_NOTIFY, "03 05 4009 0102030405", -EBADMSG, "SPI size 5 is not 0, 4 or 8" },
	{ IKEV2_PL_NOTIFY, "03 04 4009 010203", -EBADMSG, "SPI needs 4 bytes, 3 left" },
	{ IKEV2_PL_DELETE, "03 04 0002 11111111", -EBADMSG, "2 SPIs of 4 bytes but 4 bytes follow" },
	{ IKEV2_PL_DELETE, "03 04 0000", -EBADMSG, "AH/ESP deletion with SPI size 4, count 0" },
	{ IKEV2_PL_DELETE, "01 08 0001 0102030405060708", -EBADMSG, "IKE SA deletion with SPI size 8" },
	{ IKEV2_PL_DELETE, "05 04 0001 01020304", -EBADMSG, "protocol 5 is not IKE, AH or ESP" },
	{ IKEV2_PL_TSI, "00 000000", -EBADMSG, "no traffic selector" },
	{ IKEV2_PL_TSI, "11 000000", -E2BIG, "17 selectors, at most 16" },
	{ IKEV2_PL_TSI, "02 000000 07 06 0010 0000 ffff 0a000000 0affffff", -EBADMSG, "TS type needs 1 bytes, 0 left" },
	{ IKEV2_PL_TSI, "01 000000 07 06 0028 0000 ffff 0a000000 0affffff", -EBADMSG, "selector length 40, type 7 needs 16" },
	{ IKEV2_PL_TSI, "01 000000 09 06 0010 0000 ffff 0a000000 0affffff", -EBADMSG, "TS type 9 is not an IPv4 or IPv6 range" },
	{ IKEV2_PL_TSI, "01 000000 07 06 0010 0000 ffff 0a000000 0affffff 00", -EBADMSG, "1 bytes after its 1 selectors" },
	{ IKEV2_PL_CP, "01 000000 0001 0008 0000", -EBADMSG, "attribute value needs 8 bytes, 2 left" },
	{ IKEV2_PL_EAP, "01 07 000a 01 75736572", -EBADMSG, "EAP length 10 but the payload holds 9" },
	{ IKEV2_PL_SKF, "0004 0003 00", -EBADMSG, "fragment 4 of 3" },
	{ IKEV2_PL_SKF, "0000 0000", -EBADMSG, "fragment 0 of 0" },
	/* SA bodies */
	{ IKEV2_PL_SA, "", -EBADMSG, "SA payload: no proposal" },
	{ IKEV2_PL_SA, "00 00 0008 01 01 00 00", -EBADMSG, "proposal 1: no transform" },
	{ IKEV2_PL_SA, "00 00 0007 01 01 00 01", -EBADMSG, "proposal length 7 is shorter than its 8-byte header" },
	{ IKEV2_PL_SA, "00 00 0010 01 01 00 01 00 00 0009 01 00 000c", -EBADMSG, "transform length 9 exceeds the 8 bytes left" },
	{ IKEV2_PL_SA, "00 00 0010 01 01 00 01 00 00 0007 01 00 000c", -EBADMSG, "transform length 7 is shorter than its 8-byte header" },
	{ IKEV2_PL_SA, "00 00 0014 01 01 00 01 00 00 000c 01 00 000c 000e 0002", -EBADMSG, "attribute value needs 2 bytes, 0 left" },
	{ IKEV2_PL_SA, "00 00 0012 01 01 00 01 00 00 000a 01 00 000c 800e", -EBADMSG, "attribute length/value needs 2 bytes, 0 left" },
	{ IKEV2_PL_SA, "00 00 0010 00 01 00 01 00 00 0008 01 00 000c", -EBADMSG, "number 0 should be 1" },
	{ IKEV2_PL_SA, "00 00 0014 01 01 04 01 01020304 00 00 0008 01 00 000c", -EBADMSG, "SPI size 4 is wrong for protocol 1" },
	{ IKEV2_PL_SA, "00 00 0010 01 03 00 01 00 00 0008 01 00 000c", -EBADMSG, "SPI size 0 is wrong for protocol 3" },
	{ IKEV2_PL_SA, "00 00 0010 01 07 00 01 00 00 0008 01 00 000c", -EBADMSG, "protocol ID 7 is not IKE, AH, ESP" },
	{ IKEV2_PL_SA, "00 00 0010 01 01 00 02 00 00 0008 01 00 000c", -EBADMSG, "declares 2 transforms but holds 1" },
	{ IKEV2_PL_SA, "00 00 0010 01 01 00 01 03 00 0008 01 00 000c", -EBADMSG, "transform 1 says more follow but the proposal ends" },
	{ IKEV2_PL_SA, "00 00 0010 01 01 00 01 07 00 0008 01 00 000c", -EBADMSG, "transform 1 has next-payload 7, not 0 or 3" },
	{ IKEV2_PL_SA, "00 00 0018 01 01 00 01 00 00 0008 01 00 000c 00 00 0008 02 00 0005", -EBADMSG, "8 bytes after the transform marked last" },
	{ IKEV2_PL_SA, "02 00 0010 01 01 00 01 00 00 0008 01 00 000c", -EBADMSG, "proposal 1 says more follow but the payload ends" },
	{ IKEV2_PL_SA, "05 00 0010 01 01 00 01 00 00 0008 01 00 000c", -EBADMSG, "proposal 1 has next-payload 5, not 0 or 2" },
	{ IKEV2_PL_SA, "00 00 0010 01 01 00 01 00 00 0008 01 00 000c 00", -EBADMSG, "1 bytes after the proposal marked last" },
	{ IKEV2_PL_SA, "00 00 ffff 01 01 00 01", -EBADMSG, "proposal length 65535 exceeds the 8 bytes left" },
};

START_TEST(bad_bodies_are_refused_with_a_reason)
{
	uint8_t in[512];
	union ikev2_body b;
	struct ike_err err = { 0 };
	size_t n = hex2bin(bad_bodies[_i].hex, in, sizeof(in));
	int rc = ikev2_body_parse(bad_bodies[_i].type, in, n, &b, &err);

	ck_assert_msg(rc == bad_bodies[_i].code, "case %d (%s): rc %d, want %d (%s)", _i,
		      bad_bodies[_i].fragment, rc, bad_bodies[_i].code, err.msg);
	ck_assert_msg(strstr(err.msg, bad_bodies[_i].fragment) != NULL, "case %d: '%s' lacks '%s'",
		      _i, err.msg, bad_bodies[_i].fragment);
}
END_TEST

/* An SA body written byte by byte: nprop proposals of ntr transforms of
 * nattr TV attributes each. */
static size_t raw_sa(uint8_t *buf, int nprop, int ntr, int nattr)
{
	struct ike_wr w;

	ike_wr_init(&w, buf, BUF);
	for (int p = 0; p < nprop; p++) {
		ike_wr_u8(&w, p + 1 < nprop ? 2 : 0);
		ike_wr_u8(&w, 0);
		ike_wr_u16(&w, (uint16_t)(8 + ntr * (8 + 4 * nattr)));
		ike_wr_u8(&w, (uint8_t)(p + 1));
		ike_wr_u8(&w, IKE_PROTO_IKE);
		ike_wr_u8(&w, 0);
		ike_wr_u8(&w, (uint8_t)ntr);
		for (int t = 0; t < ntr; t++) {
			ike_wr_u8(&w, t + 1 < ntr ? 3 : 0);
			ike_wr_u8(&w, 0);
			ike_wr_u16(&w, (uint16_t)(8 + 4 * nattr));
			ike_wr_u32(&w, 0x0100000c);
			for (int a = 0; a < nattr; a++)
				ike_wr_u32(&w, 0x800e0080);
		}
	}
	ck_assert(!w.overflow);
	return w.len;
}

START_TEST(too_many_proposals_transforms_attributes)
{
	struct ike_sa *sa = calloc(1, sizeof(*sa));
	uint8_t buf[BUF];
	struct ike_err err = { 0 };

	ck_assert_int_eq(ike_sa_parse(IKE_V2, buf, raw_sa(buf, 16, 4, 2), sa, &err), 0);
	ck_assert_uint_eq(sa->n_prop, 16);
	ck_assert_uint_eq(sa->n_tr, 64);
	ck_assert_uint_eq(sa->n_attr, 128);
	ck_assert_int_eq(ike_sa_parse(IKE_V2, buf, raw_sa(buf, 17, 1, 0), sa, &err), -E2BIG);
	ck_assert_str_eq(err.msg, "SA payload: more than 16 proposals");
	ck_assert_int_eq(ike_sa_parse(IKE_V2, buf, raw_sa(buf, 1, 65, 0), sa, &err), -E2BIG);
	ck_assert_str_eq(err.msg, "SA payload: more than 64 transforms");
	ck_assert_int_eq(ike_sa_parse(IKE_V2, buf, raw_sa(buf, 1, 1, 129), sa, &err), -E2BIG);
	ck_assert_str_eq(err.msg, "SA payload proposal 1 transform 1: more than 128 attributes");
	/* the builder helpers stop at the same bounds */
	memset(sa, 0, sizeof(*sa));
	for (int i = 0; i < IKE_MAX_PROPOSALS; i++)
		ck_assert_int_eq(ike_sa_add_proposal(sa, (uint8_t)(i + 1), IKE_PROTO_IKE, NULL, 0), 0);
	ck_assert_int_eq(ike_sa_add_proposal(sa, 17, IKE_PROTO_IKE, NULL, 0), -E2BIG);
	for (int i = 0; i < IKE_MAX_TRANSFORMS; i++)
		ck_assert_int_eq(ike_sa_add_transform(sa, IKEV2_TR_ENCR, 12), 0);
	ck_assert_int_eq(ike_sa_add_transform(sa, IKEV2_TR_ENCR, 12), -E2BIG);
	for (int i = 0; i < IKE_MAX_ATTRS; i++)
		ck_assert_int_eq(ike_sa_add_attr_tv(sa, IKEV2_ATTR_KEY_LENGTH, 128), 0);
	ck_assert_int_eq(ike_sa_add_attr_tv(sa, IKEV2_ATTR_KEY_LENGTH, 128), -E2BIG);
	free(sa);
}
END_TEST

/* ---- whole messages ---- */

/* IKE_SA_INIT request: SA (AES_CBC/256, DH 14), KE (8 bytes), Nonce (16),
 * N(INITIAL_CONTACT). Offsets: SA 28, proposal 32, transforms 40 and 52,
 * KE 60, Nonce 76, Notify 96, end 104. */
static const char base_hex[] =
	"0102030405060708 0000000000000000 21 20 22 08 00000000 00000068"
	"22 00 0020  00 00 001c 01 01 00 02"
	"            03 00 000c 01 00 000c 800e 0100"
	"            00 00 0008 04 00 000e"
	"28 00 0010  000e 0000 1111111111111111"
	"29 00 0014  22222222222222222222222222222222"
	"00 00 0008  00 00 4000";

static size_t base(uint8_t *out)
{
	return hex2bin(base_hex, out, BUF);
}

START_TEST(builder_makes_the_hand_written_message)
{
	static const uint8_t ke[8] = { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 };
	uint8_t nonce[16], want[BUF], got[BUF];
	struct ikev2_hdr h = { .spi_i = { 1, 2, 3, 4, 5, 6, 7, 8 }, .version = IKEV2_VERSION,
			       .exchange = IKEV2_IKE_SA_INIT, .flags = IKEV2_FLAG_I };
	union ikev2_body *b = calloc(1, sizeof(*b));
	struct ikev2_builder bld;
	struct ike_err err = { 0 };
	size_t n, wn = base(want);

	memset(nonce, 0x22, sizeof(nonce));
	ikev2_build_begin(&bld, got, sizeof(got), &h);
	ck_assert_int_eq(ike_sa_add_proposal(&b->sa, 1, IKE_PROTO_IKE, NULL, 0), 0);
	ck_assert_int_eq(ike_sa_add_transform(&b->sa, IKEV2_TR_ENCR, 12), 0);
	ck_assert_int_eq(ike_sa_add_attr_tv(&b->sa, IKEV2_ATTR_KEY_LENGTH, 256), 0);
	ck_assert_int_eq(ike_sa_add_transform(&b->sa, IKEV2_TR_DH, 14), 0);
	ikev2_build_add(&bld, IKEV2_PL_SA, false, b);
	b->ke = (struct ikev2_ke){ 14, { ke, 8 } };
	ikev2_build_add(&bld, IKEV2_PL_KE, false, b);
	b->nonce = (struct ike_blob){ nonce, 16 };
	ikev2_build_add(&bld, IKEV2_PL_NONCE, false, b);
	b->notify = (struct ikev2_notify){ .type = IKEV2_N_INITIAL_CONTACT };
	ikev2_build_add(&bld, IKEV2_PL_NOTIFY, false, b);
	ck_assert_int_eq(ikev2_build_end(&bld, &n, &err), 0);
	ck_assert_uint_eq(n, wn);
	ck_assert_mem_eq(got, want, n);
	/* too small a buffer: refused, nothing written past it */
	memset(got, 0xee, sizeof(got));
	ikev2_build_begin(&bld, got, 50, &h);
	b->nonce = (struct ike_blob){ nonce, 16 };
	ikev2_build_add(&bld, IKEV2_PL_NONCE, false, b);
	ikev2_build_add(&bld, IKEV2_PL_NONCE, false, b);
	ck_assert_int_eq(ikev2_build_end(&bld, &n, &err), -ENOSPC);
	ck_assert_uint_eq(got[50], 0xee);
	free(b);
}
END_TEST

START_TEST(base_message_parses_and_describes)
{
	uint8_t in[BUF], out[BUF];
	struct ikev2_msg m;
	struct ike_err err = { 0 };
	char text[1024];
	size_t n = base(in), rn;
	int i = -1;

	ck_assert_msg(ikev2_msg_parse(in, n, &m, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(m.hdr.exchange, IKEV2_IKE_SA_INIT);
	ck_assert_uint_eq(m.hdr.flags, IKEV2_FLAG_I);
	ck_assert_uint_eq(m.hdr.length, 104);
	ck_assert_uint_eq(m.n, 4);
	ck_assert_uint_eq(m.pl[1].type, IKEV2_PL_KE);
	ck_assert_ptr_nonnull(ikev2_msg_find(&m, IKEV2_PL_NONCE, &i));
	ck_assert_int_eq(i, 2);
	ck_assert_ptr_null(ikev2_msg_find(&m, IKEV2_PL_NONCE, &i));
	ck_assert_int_eq(ikev2_msg_rebuild(&m, out, sizeof(out), &rn, &err), 0);
	ck_assert_uint_eq(rn, n);
	ck_assert_mem_eq(out, in, n);
	ikev2_msg_describe(&m, text, sizeof(text));
	ck_assert_msg(strstr(text, "IKEv2 IKE_SA_INIT request I msgid 0 len 104") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "SA: #1 IKE [ENCR AES_CBC/256, DH MODP_2048]") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "KE: group 14, 8 bytes") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "N: INITIAL_CONTACT") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "1111") == NULL, "KE data printed: %s", text);
	/* the dispatcher picks IKEv2 by the version byte */
	ike_msg_describe(in, n, text, sizeof(text));
	ck_assert(strncmp(text, "IKEv2 IKE_SA_INIT", 17) == 0);
	ike_msg_describe(in, 20, text, sizeof(text));
	ck_assert_msg(strstr(text, "unparsable 20-byte IKE datagram") != NULL, "%s", text);
	/* describe truncates safely */
	ck_assert_uint_gt(ikev2_msg_describe(&m, text, 10), 10);
	ck_assert_uint_eq(strlen(text), 9);
}
END_TEST

START_TEST(unknown_payloads_critical_and_not)
{
	uint8_t in[BUF];
	struct ikev2_msg m;
	struct ike_err err = { 0 };
	size_t n = base(in);

	in[76] = 99; /* the Notify becomes type 99 */
	ck_assert_int_eq(ikev2_msg_parse(in, n, &m, &err), 0);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(m.n_skipped, 1);
	in[97] = IKEV2_PL_CRITICAL;
	ck_assert_int_eq(ikev2_msg_parse(in, n, &m, &err), -EOPNOTSUPP);
	ck_assert_uint_eq(err.notify, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	ck_assert_uint_eq(err.detail, 99);
	ck_assert_str_eq(err.msg,
			 "UNSUPPORTED_CRITICAL_PAYLOAD: payload type 99 is marked critical and not known");
	/* a known payload marked critical is fine */
	base(in);
	in[61] = IKEV2_PL_CRITICAL;
	ck_assert_int_eq(ikev2_msg_parse(in, n, &m, &err), 0);
	ck_assert(m.pl[1].critical);
}
END_TEST

static const struct mutation bad_msgs[] = {
	{ "truncated header", MUT_TRUNCATE, 0, 27, -EBADMSG, "IKEv2 header: length needs 4 bytes, 3 left", IKEV2_N_INVALID_SYNTAX },
	{ "empty", MUT_TRUNCATE, 0, 0, -EBADMSG, "SPIi needs 8 bytes, 0 left", 0 },
	{ "length too long", MUT_U32, 24, 105, -EBADMSG, "length 105 but the datagram has 104 bytes", IKEV2_N_INVALID_SYNTAX },
	{ "length too short", MUT_U32, 24, 28, -EBADMSG, "length 28 but the datagram has 104", 0 },
	{ "truncated message", MUT_TRUNCATE, 0, 100, -EBADMSG, "length 104 but the datagram has 100", 0 },
	{ "IKEv1 version", MUT_U8, 17, 0x10, -EPROTONOSUPPORT, "major version 1, expected 2", 0 },
	{ "IKEv3 version", MUT_U8, 17, 0x30, -EPROTONOSUPPORT, "major version 3", IKEV2_N_INVALID_MAJOR_VERSION },
	{ "exchange type", MUT_U8, 18, 5, -EOPNOTSUPP, "exchange type 5 is not known", 0 },
	{ "SA length 3", MUT_U16, 30, 3, -EBADMSG, "payload length 3 is shorter than its 4-byte header", IKEV2_N_INVALID_SYNTAX },
	{ "SA length 0", MUT_U16, 30, 0, -EBADMSG, "payload length 0 is shorter", 0 },
	{ "SA length past the end", MUT_U16, 30, 0xffff, -EBADMSG, "payload length 65535 exceeds the 76 bytes left", 0 },
	{ "SA length too short for its proposal", MUT_U16, 30, 0x1c, -EBADMSG, "proposal length 28 exceeds the 24 bytes left", 0 },
	{ "proposal length past the SA", MUT_U16, 34, 0x40, -EBADMSG, "proposal length 64 exceeds the 28 bytes left", 0 },
	{ "proposal length short", MUT_U16, 34, 0x14, -EBADMSG, "transform 1 says more follow but the proposal ends", 0 },
	{ "transform length past the proposal", MUT_U16, 42, 0xff, -EBADMSG, "transform length 255 exceeds the 20 bytes left", 0 },
	{ "transform count", MUT_U8, 39, 3, -EBADMSG, "declares 3 transforms but holds 2", 0 },
	{ "proposal number", MUT_U8, 36, 0, -EBADMSG, "number 0 should be 1", 0 },
	{ "proposal more but last", MUT_U8, 32, 2, -EBADMSG, "says more follow but the payload ends", 0 },
	{ "transform last too early", MUT_U8, 40, 0, -EBADMSG, "8 bytes after the transform marked last", 0 },
	{ "attribute turned TLV", MUT_U16, 48, 0x000e, -EBADMSG, "attribute value needs 256 bytes, 0 left", 0 },
	{ "SPI size for IKE", MUT_U8, 38, 4, -EBADMSG, "SPI size 4 is wrong for protocol 1", 0 },
	{ "KE length short", MUT_U16, 62, 0x0009, -EBADMSG, "payload length 4369 exceeds", 0 },
	{ "KE length 4", MUT_U16, 62, 4, -EBADMSG, "KE payload: DH group needs 2 bytes, 0 left", 0 },
	{ "nonce too short", MUT_U16, 78, 0x10, -EBADMSG, "Nonce payload: 12 bytes, outside 16..256", 0 },
	{ "nonce zero length", MUT_U16, 78, 0, -EBADMSG, "payload length 0 is shorter than its 4-byte header", 0 },
	{ "next payload past the end", MUT_U8, 96, IKEV2_PL_VENDOR, -EBADMSG, "next payload 43 announced but the message ends", 0 },
	{ "trailing bytes", MUT_APPEND, 0, 4, -EBADMSG, "4 bytes after the last payload", 0 },
	{ "notify SPI past its payload", MUT_U16, 100, 0x0308, -EBADMSG, "SPI needs 8 bytes, 0 left", 0 },
	{ "notify SPI without protocol", MUT_U8, 101, 8, -EBADMSG, "SPI given for protocol 0", 0 },
	{ "header next payload NONE", MUT_U8, 16, 0, -EBADMSG, "76 bytes after the last payload", 0 },
	{ "SK not last", MUT_U8, 60, IKEV2_PL_SK, -EBADMSG, "SK payload must be last, 8 bytes follow it", 0 },
};

START_TEST(malformed_messages_fail_with_their_reason)
{
	uint8_t b[BUF], in[BUF];
	struct ikev2_msg m;
	struct ike_err err = { 0 };
	const struct mutation *mu = &bad_msgs[_i];
	size_t n = mutate(b, base(b), mu, in);
	int rc = ikev2_msg_parse(in, n, &m, &err);

	ck_assert_msg(rc == mu->code, "%s: rc %d, want %d (%s)", mu->name, rc, mu->code, err.msg);
	ck_assert_msg(strstr(err.msg, mu->fragment) != NULL, "%s: '%s' lacks '%s'", mu->name, err.msg,
		      mu->fragment);
	if (mu->notify)
		ck_assert_uint_eq(err.notify, mu->notify);
}
END_TEST

START_TEST(too_many_payloads)
{
	uint8_t buf[BUF];
	struct ikev2_hdr h = { .version = IKEV2_VERSION, .exchange = IKEV2_INFORMATIONAL };
	static const uint8_t vid[4] = "dpsc";
	struct ikev2_builder b;
	struct ikev2_msg m;
	struct ike_err err = { 0 };
	size_t n;

	ikev2_build_begin(&b, buf, sizeof(buf), &h);
	for (int i = 0; i <= IKEV2_MAX_PAYLOADS; i++)
		ikev2_build_raw(&b, IKEV2_PL_VENDOR, false, vid, sizeof(vid));
	ck_assert_int_eq(ikev2_build_end(&b, &n, &err), 0);
	ck_assert_int_eq(ikev2_msg_parse(buf, n, &m, &err), -E2BIG);
	ck_assert_str_eq(err.msg, "message: more than 32 payloads");
}
END_TEST

/* An INFORMATIONAL with an SK payload built by the codec: the slices
 * returned are where the parser finds IV, ciphertext and ICV. */
START_TEST(sk_and_skf_build_and_split)
{
	uint8_t buf[BUF];
	struct ikev2_hdr h = { .version = IKEV2_VERSION, .exchange = IKEV2_INFORMATIONAL,
			       .flags = IKEV2_FLAG_I, .msg_id = 7 };
	struct ikev2_builder b;
	struct ikev2_sk_space sp;
	struct ikev2_sk sk;
	struct ikev2_skf frag = { .number = 2, .total = 3 };
	union ikev2_body body;
	struct ikev2_msg m;
	struct ike_err err = { 0 };
	size_t n;

	ikev2_build_begin(&b, buf, sizeof(buf), &h);
	ikev2_build_sk(&b, IKEV2_PL_DELETE, NULL, 16, 32, 12, &sp);
	ck_assert_ptr_nonnull(sp.icv);
	memset(sp.iv, 0x1, 16);
	memset(sp.ct, 0x2, 32);
	memset(sp.icv, 0x3, 12);
	ck_assert_int_eq(ikev2_build_end(&b, &n, &err), 0);
	ck_assert_uint_eq(n, 28 + 4 + 60);
	ck_assert_uint_eq(sp.aad_len, 32);
	ck_assert_int_eq(ikev2_msg_parse(buf, n, &m, &err), 0);
	ck_assert_uint_eq(m.sk_inner_next, IKEV2_PL_DELETE);
	ck_assert_uint_eq(m.sk_body_off, 32);
	ck_assert_int_eq(ikev2_sk_split(m.pl[0].body.p, m.pl[0].body.len, 16, 12, &sk, &err), 0);
	ck_assert_ptr_eq(sk.iv.p, sp.iv);
	ck_assert_ptr_eq(sk.ct.p, sp.ct);
	ck_assert_uint_eq(sk.ct.len, 32);
	ck_assert_ptr_eq(sk.icv.p, sp.icv);
	/* nothing may follow SK */
	ikev2_build_raw(&b, IKEV2_PL_VENDOR, false, buf, 4);
	ck_assert_int_eq(ikev2_build_end(&b, &n, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "IKEv2 message: a payload was added after the encrypted payload");

	/* fragment 2 of 3 */
	ikev2_build_begin(&b, buf, sizeof(buf), &h);
	ikev2_build_sk(&b, IKEV2_PL_NONE, &frag, 8, 16, 16, &sp);
	ck_assert_int_eq(ikev2_build_end(&b, &n, &err), 0);
	ck_assert_uint_eq(sp.aad_len, 28 + 4 + 4);
	ck_assert_int_eq(ikev2_msg_parse(buf, n, &m, &err), 0);
	ck_assert_uint_eq(m.pl[0].type, IKEV2_PL_SKF);
	ck_assert_int_eq(ikev2_skf_parse(m.pl[0].body.p, m.pl[0].body.len, &body.skf, &err), 0);
	ck_assert_uint_eq(body.skf.number, 2);
	ck_assert_uint_eq(body.skf.total, 3);
	ck_assert_uint_eq(body.skf.rest.len, 40);
	/* only fragment 1 names the first inner payload */
	buf[28] = IKEV2_PL_IDI;
	ck_assert_int_eq(ikev2_msg_parse(buf, n, &m, &err), -EBADMSG);
	ck_assert_msg(strstr(err.msg, "fragment 2 names a first inner payload") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(decrypted_chain_parses_and_refuses_nested_sk)
{
	static const char inner[] = "2b 00 000c 03 04 0001 aabbccdd" /* D, then V */
				    "00 00 0008 64707363";
	uint8_t in[64];
	struct ikev2_msg m = { 0 };
	struct ike_err err = { 0 };
	size_t n = hex2bin(inner, in, sizeof(in));

	ck_assert_int_eq(ikev2_chain_parse(IKEV2_PL_DELETE, in, n, &m, &err), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_uint_eq(m.pl[0].type, IKEV2_PL_DELETE);
	ck_assert_uint_eq(m.pl[1].type, IKEV2_PL_VENDOR);
	m.n = 0;
	in[0] = IKEV2_PL_SK;
	ck_assert_int_eq(ikev2_chain_parse(IKEV2_PL_DELETE, in, n, &m, &err), -EBADMSG);
	ck_assert_str_eq(err.msg, "SK payload inside encrypted payloads");
	ck_assert_uint_eq(err.notify, IKEV2_N_INVALID_SYNTAX);
}
END_TEST

/* ---- scapy-made messages ---- */

START_TEST(scapy_ike_sa_init)
{
	uint8_t in[BUF], out[BUF];
	struct ikev2_msg m;
	union ikev2_body *b = calloc(1, sizeof(*b));
	struct ike_err err = { 0 };
	size_t n = load_vector("ikev2_sa_init", in, sizeof(in)), rn;
	const struct ike_vendor *v;

	ck_assert_msg(ikev2_msg_parse(in, n, &m, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(m.hdr.exchange, IKEV2_IKE_SA_INIT);
	ck_assert_uint_eq(m.hdr.flags, IKEV2_FLAG_I);
	ck_assert_mem_eq(m.hdr.spi_i, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ck_assert_uint_eq(m.n, 5);
	ck_assert_int_eq(ikev2_sa_parse(m.pl[0].body.p, m.pl[0].body.len, &b->sa, &err), 0);
	ck_assert_uint_eq(b->sa.n_prop, 1);
	ck_assert_uint_eq(b->sa.prop[0].n_tr, 4);
	ck_assert_uint_eq(b->sa.tr[0].id, 12);
	ck_assert_ptr_nonnull(ike_tr_attr(&b->sa, &b->sa.tr[0], IKEV2_ATTR_KEY_LENGTH));
	ck_assert_uint_eq(ike_tr_attr(&b->sa, &b->sa.tr[0], IKEV2_ATTR_KEY_LENGTH)->tv_value, 256);
	ck_assert_uint_eq(b->sa.tr[1].type, IKEV2_TR_PRF);
	ck_assert_uint_eq(b->sa.tr[1].id, 5);
	ck_assert_uint_eq(b->sa.tr[3].id, 14);
	ck_assert_int_eq(ikev2_ke_parse(m.pl[1].body.p, m.pl[1].body.len, &b->ke, &err), 0);
	ck_assert_uint_eq(b->ke.group, 14);
	ck_assert_uint_eq(b->ke.data.len, 256);
	ck_assert_uint_eq(m.pl[2].type, IKEV2_PL_NONCE);
	ck_assert_uint_eq(m.pl[2].body.len, 32);
	ck_assert_int_eq(ikev2_notify_parse(m.pl[3].body.p, m.pl[3].body.len, &b->notify, &err), 0);
	ck_assert_uint_eq(b->notify.type, IKEV2_N_NAT_DETECTION_SOURCE_IP);
	v = ike_vendor_lookup(m.pl[4].body.p, m.pl[4].body.len);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->id, IKE_VID_STRONGSWAN);
	ck_assert_int_eq(ikev2_msg_rebuild(&m, out, sizeof(out), &rn, &err), 0);
	ck_assert_uint_eq(rn, n);
	ck_assert_mem_eq(out, in, n);
	free(b);
}
END_TEST

START_TEST(scapy_id_and_traffic_selectors)
{
	uint8_t in[BUF], out[BUF];
	struct ikev2_msg m;
	union ikev2_body b;
	struct ike_err err = { 0 };
	size_t n = load_vector("ikev2_ts", in, sizeof(in)), rn;

	ck_assert_msg(ikev2_msg_parse(in, n, &m, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(m.hdr.exchange, IKEV2_IKE_AUTH);
	ck_assert_uint_eq(m.hdr.flags, IKEV2_FLAG_R);
	ck_assert_uint_eq(m.hdr.msg_id, 1);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_int_eq(ikev2_id_parse(m.pl[0].body.p, m.pl[0].body.len, &b.id, &err), 0);
	ck_assert_uint_eq(b.id.type, IKEV2_ID_FQDN);
	ck_assert_mem_eq(b.id.data.p, "gw.example.org", 14);
	ck_assert_int_eq(ikev2_ts_parse(m.pl[1].body.p, m.pl[1].body.len, &b.ts, &err), 0);
	ck_assert_uint_eq(b.ts.n, 1);
	ck_assert_uint_eq(b.ts.ts[0].ip_proto, 6);
	ck_assert_mem_eq(b.ts.ts[0].addr_lo, "\x0a\x01\x00\x00", 4);
	ck_assert_mem_eq(b.ts.ts[0].addr_hi, "\x0a\x01\xff\xff", 4);
	ck_assert_int_eq(ikev2_ts_parse(m.pl[2].body.p, m.pl[2].body.len, &b.ts, &err), 0);
	ck_assert_uint_eq(b.ts.n, 2);
	ck_assert_uint_eq(b.ts.ts[0].ip_proto, 17);
	ck_assert_uint_eq(b.ts.ts[0].port_lo, 500);
	ck_assert_uint_eq(b.ts.ts[0].port_hi, 500);
	ck_assert_mem_eq(b.ts.ts[1].addr_hi, "\xff\xff\xff\xff", 4);
	ck_assert_int_eq(ikev2_msg_rebuild(&m, out, sizeof(out), &rn, &err), 0);
	ck_assert_uint_eq(rn, n);
	ck_assert_mem_eq(out, in, n);
}
END_TEST

START_TEST(scapy_encrypted)
{
	uint8_t in[BUF];
	struct ikev2_msg m;
	struct ikev2_sk sk;
	struct ike_err err = { 0 };
	size_t n = load_vector("ikev2_sk", in, sizeof(in));

	ck_assert_msg(ikev2_msg_parse(in, n, &m, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(m.hdr.exchange, IKEV2_INFORMATIONAL);
	ck_assert_uint_eq(m.hdr.msg_id, 2);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_uint_eq(m.pl[0].type, IKEV2_PL_SK);
	ck_assert_uint_eq(m.sk_inner_next, IKEV2_PL_DELETE);
	ck_assert_int_eq(ikev2_sk_split(m.pl[0].body.p, m.pl[0].body.len, 16, 16, &sk, &err), 0);
	ck_assert_uint_eq(sk.iv.p[15], 15);
	ck_assert_uint_eq(sk.ct.len, 32);
	ck_assert_uint_eq(sk.ct.p[0], 0xee);
	ck_assert_uint_eq(sk.icv.p[0], 0xcc);
}
END_TEST

/* ---- random well-formed messages ---- */

static void random_sa(uint32_t *s, struct ike_sa *sa)
{
	int np = 1 + (int)(rnd(s) % 4);

	memset(sa, 0, sizeof(*sa));
	for (int p = 0; p < np; p++) {
		bool esp = rnd(s) & 1;
		uint8_t spi[8];
		int nt = 1 + (int)(rnd(s) % 5);

		rnd_bytes(s, spi, sizeof(spi));
		ck_assert_int_eq(ike_sa_add_proposal(sa, (uint8_t)(p + 1),
						     esp ? IKE_PROTO_ESP : IKE_PROTO_IKE, spi,
						     esp ? 4 : (rnd(s) & 1) * 8), 0);
		for (int t = 0; t < nt; t++) {
			ck_assert_int_eq(ike_sa_add_transform(sa, (uint8_t)(1 + rnd(s) % 5),
							      (uint16_t)rnd(s)), 0);
			if (rnd(s) & 1)
				ck_assert_int_eq(ike_sa_add_attr_tv(sa, IKEV2_ATTR_KEY_LENGTH,
								    (uint16_t)(128 << (rnd(s) % 2))), 0);
		}
	}
}

static uint8_t random_body(uint32_t *s, union ikev2_body *b, uint8_t *pool)
{
	static const uint8_t types[] = { IKEV2_PL_SA, IKEV2_PL_KE, IKEV2_PL_IDI, IKEV2_PL_IDR,
					 IKEV2_PL_CERT, IKEV2_PL_CERTREQ, IKEV2_PL_AUTH,
					 IKEV2_PL_NONCE, IKEV2_PL_NOTIFY, IKEV2_PL_DELETE,
					 IKEV2_PL_VENDOR, IKEV2_PL_TSI, IKEV2_PL_TSR, IKEV2_PL_CP,
					 IKEV2_PL_EAP };
	uint8_t t = types[rnd(s) % sizeof(types)];
	uint16_t len = (uint16_t)(16 + rnd(s) % 100);

	rnd_bytes(s, pool, 256);
	switch (t) {
	case IKEV2_PL_SA: random_sa(s, &b->sa); break;
	case IKEV2_PL_KE: b->ke = (struct ikev2_ke){ (uint16_t)rnd(s), { pool, len } }; break;
	case IKEV2_PL_IDI:
	case IKEV2_PL_IDR: b->id = (struct ikev2_id){ IKEV2_ID_FQDN, { pool, len } }; break;
	case IKEV2_PL_CERT:
	case IKEV2_PL_CERTREQ: b->cert = (struct ikev2_cert){ 4, { pool, len } }; break;
	case IKEV2_PL_AUTH: b->auth = (struct ikev2_auth){ 2, { pool, len } }; break;
	case IKEV2_PL_NOTIFY:
		b->notify = (struct ikev2_notify){ .type = (uint16_t)(20000 + rnd(s) % 1000),
						   .data = { pool, len } };
		break;
	case IKEV2_PL_DELETE:
		b->del = (struct ikev2_delete){ IKE_PROTO_ESP, 4, (uint16_t)(1 + len / 8), pool };
		break;
	case IKEV2_PL_TSI:
	case IKEV2_PL_TSR:
		b->ts.n = (uint8_t)(1 + rnd(s) % IKEV2_MAX_TS);
		for (int i = 0; i < b->ts.n; i++) {
			struct ikev2_ts *ts = &b->ts.ts[i];
			bool v6 = rnd(s) & 1;

			memset(ts, 0, sizeof(*ts));
			ts->type = v6 ? IKEV2_TS_IPV6_ADDR_RANGE : IKEV2_TS_IPV4_ADDR_RANGE;
			ts->ip_proto = (uint8_t)rnd(s);
			ts->port_lo = (uint16_t)rnd(s);
			ts->port_hi = (uint16_t)rnd(s);
			rnd_bytes(s, ts->addr_lo, v6 ? 16 : 4);
			rnd_bytes(s, ts->addr_hi, v6 ? 16 : 4);
		}
		break;
	case IKEV2_PL_CP:
		b->cp.cfg_type = 1;
		b->cp.n = (uint8_t)(rnd(s) % 5);
		for (int i = 0; i < b->cp.n; i++)
			b->cp.attr[i] = (struct ikev2_cp_attr){ (uint16_t)(1 + i), { pool, (uint16_t)(i * 4) } };
		break;
	case IKEV2_PL_EAP:
		pool[2] = (uint8_t)(len >> 8);
		pool[3] = (uint8_t)len;
		b->eap = (struct ikev2_eap){ pool[0], pool[1], { pool, len } };
		break;
	default: /* Nonce, Vendor ID */
		b->nonce = (struct ike_blob){ pool, len };
		break;
	}
	return t;
}

START_TEST(random_messages_round_trip)
{
	static uint8_t pools[IKEV2_MAX_PAYLOADS][256], buf[65536], again[65536];
	union ikev2_body *b = malloc(sizeof(*b));
	uint32_t seed = 0x1ce2c0de;

	for (int iter = 0; iter < 500; iter++) {
		struct ikev2_hdr h = { .version = IKEV2_VERSION,
				       .exchange = (uint8_t)(34 + rnd(&seed) % 4),
				       .flags = (uint8_t)(rnd(&seed) & 0x38), .msg_id = rnd(&seed) };
		struct ikev2_builder bld;
		struct ikev2_msg m;
		struct ike_err err = { 0 };
		uint8_t types[IKEV2_MAX_PAYLOADS];
		int np = 1 + (int)(rnd(&seed) % 12);
		size_t n, n2;

		rnd_bytes(&seed, h.spi_i, 8);
		rnd_bytes(&seed, h.spi_r, 8);
		ikev2_build_begin(&bld, buf, sizeof(buf), &h);
		for (int i = 0; i < np; i++) {
			types[i] = random_body(&seed, b, pools[i]);
			ikev2_build_add(&bld, types[i], rnd(&seed) & 1, b);
		}
		ck_assert_int_eq(ikev2_build_end(&bld, &n, &err), 0);
		ck_assert_msg(ikev2_msg_parse(buf, n, &m, &err) == 0, "iter %d: %s", iter, err.msg);
		ck_assert_int_eq(m.n, np);
		for (int i = 0; i < np; i++)
			ck_assert_uint_eq(m.pl[i].type, types[i]);
		ck_assert_uint_eq(m.hdr.msg_id, h.msg_id);
		ck_assert_int_eq(ikev2_msg_rebuild(&m, again, sizeof(again), &n2, &err), 0);
		ck_assert_uint_eq(n2, n);
		ck_assert_msg(memcmp(again, buf, n) == 0, "iter %d: rebuilt bytes differ", iter);
	}
	free(b);
}
END_TEST

static Suite *ike_codec_suite(void)
{
	Suite *s = suite_create("ike_codec");
	TCase *tc = tcase_create("ikev2");

	tcase_add_test(tc, reader_stops_at_the_end_and_names_the_field);
	tcase_add_test(tc, substructure_lengths_are_checked_against_what_is_left);
	tcase_add_test(tc, writer_never_passes_its_capacity);
	tcase_add_test(tc, sa_payload_two_proposals);
	tcase_add_test(tc, ke_id_cert_auth_nonce_vendor);
	tcase_add_test(tc, notify_types);
	tcase_add_test(tc, delete_ts_cp_eap_skf);
	tcase_add_test(tc, sk_split_gives_iv_ciphertext_icv);
	tcase_add_loop_test(tc, bad_bodies_are_refused_with_a_reason, 0,
			    sizeof(bad_bodies) / sizeof(bad_bodies[0]));
	tcase_add_test(tc, too_many_proposals_transforms_attributes);
	tcase_add_test(tc, builder_makes_the_hand_written_message);
	tcase_add_test(tc, base_message_parses_and_describes);
	tcase_add_test(tc, unknown_payloads_critical_and_not);
	tcase_add_loop_test(tc, malformed_messages_fail_with_their_reason, 0,
			    sizeof(bad_msgs) / sizeof(bad_msgs[0]));
	tcase_add_test(tc, too_many_payloads);
	tcase_add_test(tc, sk_and_skf_build_and_split);
	tcase_add_test(tc, decrypted_chain_parses_and_refuses_nested_sk);
	tcase_add_test(tc, scapy_ike_sa_init);
	tcase_add_test(tc, scapy_id_and_traffic_selectors);
	tcase_add_test(tc, scapy_encrypted);
	tcase_add_test(tc, random_messages_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(ike_codec_suite());
}
