/* test_isakmp_codec.c - Check unit tests of the ISAKMP / IKEv1 codec:
 * payloads from hand-written bytes (parse, fields, build, same bytes); the
 * IKE (RFC 2409 App. A) and IPsec DOI (RFC 2407 §4.5) attributes decoded,
 * in TV and TLV form, with the NAT-T encapsulation modes; a Main Mode
 * message built by the builder equal to its hand-written bytes; scapy's
 * Main and Aggressive Mode messages parsed; encrypted messages and padded
 * decrypted chains; well-known vendor IDs recomputed with OpenSSL MD5;
 * random messages round-tripped; and a table of malformed messages each
 * failing with its errno, a fragment of its message and its notify. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ike_msg.h"
#include "ike_test_util.h"
#include "ike_vendor.h"
#include "check_run.h"

#define BUF 4096

/* Main Mode message 1: SA (IKE proposal: AES/256, SHA, PSK, group 14,
 * 28800 s as a 4-byte TLV), VID (RFC 3947), NONCE (8 bytes). Offsets: SA
 * 28 (DOI 32, situation 36), proposal 40, transform 48, attributes 56..88
 * (life type 76, life duration 80), VID 88, NONCE 108, end 120. */
static const char base_hex[] =
	"2122232425262728 0000000000000000 01 10 02 00 00000000 00000078"
	"0d 00 003c 00000001 00000001"
	"  00 00 0030 01 01 00 01"
	"    00 00 0028 01 01 0000"
	"      8001 0007 800e 0100 8002 0002 8003 0001 8004 000e 800b 0001 000c 0004 00007080"
	"0a 00 0014 4a131c81070358455c5728f20e95452f"
	"00 00 000c 0102030405060708";

static size_t base(uint8_t *out)
{
	return hex2bin(base_hex, out, BUF);
}

START_TEST(main_mode_message_parses_decodes_describes)
{
	uint8_t in[BUF], out[BUF];
	struct isakmp_msg m;
	struct ike_sa *sa = malloc(sizeof(*sa));
	struct isakmp_ike_policy pol;
	struct ike_err err = { 0 };
	char text[2048];
	size_t n = base(in), rn;

	ck_assert_msg(isakmp_msg_parse(in, n, &m, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(m.hdr.exchange, ISAKMP_MAIN_MODE);
	ck_assert_mem_eq(m.hdr.icookie, "\x21\x22\x23\x24\x25\x26\x27\x28", 8);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_int_eq(isakmp_sa_parse(m.pl[0].body.p, m.pl[0].body.len, sa, &err), 0);
	ck_assert_uint_eq(sa->doi, ISAKMP_DOI_IPSEC);
	ck_assert_uint_eq(sa->situation, ISAKMP_SIT_IDENTITY_ONLY);
	ck_assert_uint_eq(sa->n_prop, 1);
	ck_assert_uint_eq(sa->prop[0].protocol, IKE_PROTO_IKE);
	ck_assert_uint_eq(sa->tr[0].type, 1); /* transform number */
	ck_assert_uint_eq(sa->tr[0].id, 1);   /* KEY_IKE */
	ck_assert_uint_eq(sa->tr[0].n_attrs, 7);
	ck_assert_int_eq(isakmp_ike_attrs_decode(sa, &sa->tr[0], &pol, &err), 0);
	ck_assert_uint_eq(pol.enc, 7);
	ck_assert_uint_eq(pol.key_len, 256);
	ck_assert_uint_eq(pol.hash, 2);
	ck_assert_uint_eq(pol.auth, 1);
	ck_assert_uint_eq(pol.group, 14);
	ck_assert_uint_eq(pol.life_secs, 28800);
	ck_assert_uint_eq(pol.life_kb, 0);
	ck_assert_int_eq(ike_vendor_lookup(m.pl[1].body.p, m.pl[1].body.len)->id, IKE_VID_NATT_RFC3947);
	ck_assert_uint_eq(m.pl[2].body.len, 8);
	ck_assert_int_eq(isakmp_msg_rebuild(&m, out, sizeof(out), &rn, &err), 0);
	ck_assert_uint_eq(rn, n);
	ck_assert_mem_eq(out, in, n);
	isakmp_msg_describe(&m, text, sizeof(text));
	ck_assert_msg(strstr(text, "ISAKMP Main Mode msgid 00000000 len 120 cookies 2122232425262728:") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "P#1 ISAKMP") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "ENCRYPTION_ALGORITHM=7 KEY_LENGTH=256 HASH_ALGORITHM=2") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "LIFE_DURATION=28800") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "VID: NAT-T (RFC 3947)") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "NONCE: 8 bytes") != NULL, "%s", text);
	ike_msg_describe(in, n, text, sizeof(text));
	ck_assert(strncmp(text, "ISAKMP Main Mode", 16) == 0);
	free(sa);
}
END_TEST

START_TEST(builder_makes_the_hand_written_message)
{
	static const uint8_t life[4] = { 0, 0, 0x70, 0x80 };
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct isakmp_hdr h = { .icookie = { 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28 },
				.version = ISAKMP_VERSION, .exchange = ISAKMP_MAIN_MODE };
	union isakmp_body *b = calloc(1, sizeof(*b));
	uint8_t want[BUF], got[BUF];
	struct isakmp_builder bld;
	struct ike_err err = { 0 };
	const struct ike_vendor *natt = &ike_vendor_table(&(size_t){ 0 })[IKE_VID_NATT_RFC3947];
	size_t n, wn = base(want);

	b->sa.doi = ISAKMP_DOI_IPSEC;
	b->sa.situation = ISAKMP_SIT_IDENTITY_ONLY;
	ck_assert_int_eq(ike_sa_add_proposal(&b->sa, 1, IKE_PROTO_IKE, NULL, 0), 0);
	ck_assert_int_eq(ike_sa_add_transform(&b->sa, 1, 1), 0);
	ck_assert_int_eq(ike_sa_add_attr_tv(&b->sa, ISAKMP_IKE_ENCRYPTION_ALGORITHM, 7), 0);
	ck_assert_int_eq(ike_sa_add_attr_tv(&b->sa, ISAKMP_IKE_KEY_LENGTH, 256), 0);
	ck_assert_int_eq(ike_sa_add_attr_tv(&b->sa, ISAKMP_IKE_HASH_ALGORITHM, 2), 0);
	ck_assert_int_eq(ike_sa_add_attr_tv(&b->sa, ISAKMP_IKE_AUTHENTICATION_METHOD, 1), 0);
	ck_assert_int_eq(ike_sa_add_attr_tv(&b->sa, ISAKMP_IKE_GROUP_DESCRIPTION, 14), 0);
	ck_assert_int_eq(ike_sa_add_attr_tv(&b->sa, ISAKMP_IKE_LIFE_TYPE, ISAKMP_LIFE_SECONDS), 0);
	ck_assert_int_eq(ike_sa_add_attr_tlv(&b->sa, ISAKMP_IKE_LIFE_DURATION, life, 4), 0);
	isakmp_build_begin(&bld, got, sizeof(got), &h);
	isakmp_build_add(&bld, ISAKMP_PL_SA, b);
	b->vendor = (struct ike_blob){ natt->bytes, natt->len };
	isakmp_build_add(&bld, ISAKMP_PL_VENDOR, b);
	b->nonce = (struct ike_blob){ nonce, 8 };
	isakmp_build_add(&bld, ISAKMP_PL_NONCE, b);
	ck_assert_int_eq(isakmp_build_end(&bld, &n, &err), 0);
	ck_assert_uint_eq(n, wn);
	ck_assert_mem_eq(got, want, n);
	free(b);
}
END_TEST

/* Parses hex as a body of type, rebuilds it, compares; out points into keep. */
static uint8_t keep[512];

static void body_roundtrip(uint8_t type, const char *hex, union isakmp_body *out)
{
	uint8_t again[512];
	struct ike_err err = { 0 };
	struct ike_wr w;
	size_t n = hex2bin(hex, keep, sizeof(keep));

	ck_assert_msg(isakmp_body_parse(type, keep, n, out, &err) == 0, "%s: %s",
		      isakmp_payload_name(type), err.msg);
	ike_wr_init(&w, again, sizeof(again));
	isakmp_body_build(type, out, &w);
	ck_assert(!w.overflow);
	ck_assert_uint_eq(w.len, n);
	ck_assert_mem_eq(again, keep, n);
}

START_TEST(ipsec_doi_sa_with_nat_t_modes_and_long_lifetimes)
{
	union isakmp_body *b = malloc(sizeof(*b));
	struct isakmp_ipsec_policy pol;
	struct ike_err err = { 0 };

	body_roundtrip(ISAKMP_PL_SA,
		       "00000001 00000001"
		       "00 00 0054 01 03 04 02 c0ffee01"
		       /* T#1 ESP_AES: 3600 s (TV), 4608000 KB (TLV 4), UDP tunnel, HMAC-SHA, 128 */
		       "  03 00 0028 01 0c 0000 8001 0001 8002 0e10 8001 0002 0002 0004 00465000"
		       "             8004 0003 8005 0002 8006 0080"
		       /* T#2 ESP_3DES: 8-byte TLV lifetime, draft UDP transport */
		       "  00 00 0020 02 03 0000 8001 0001 0002 0008 0000000100000000 8004 f004 8005 0001",
		       b);
	ck_assert_uint_eq(b->sa.prop[0].protocol, IKE_PROTO_ESP);
	ck_assert_uint_eq(b->sa.tr[0].id, 12);
	ck_assert_int_eq(isakmp_ipsec_attrs_decode(&b->sa, &b->sa.tr[0], &pol, &err), 0);
	ck_assert_uint_eq(pol.life_secs, 3600);
	ck_assert_uint_eq(pol.life_kb, 4608000);
	ck_assert_uint_eq(pol.encap, ISAKMP_ENCAP_UDP_TUNNEL);
	ck_assert_uint_eq(pol.auth, 2);
	ck_assert_uint_eq(pol.key_len, 128);
	ck_assert_int_eq(isakmp_ipsec_attrs_decode(&b->sa, &b->sa.tr[1], &pol, &err), 0);
	ck_assert_uint_eq(pol.life_secs, 1ull << 32);
	ck_assert_uint_eq(pol.encap, ISAKMP_ENCAP_UDP_TRANSPORT_DRAFT);
	ck_assert_str_eq(isakmp_ipsec_attr_name(4), "ENCAPSULATION_MODE");
	ck_assert_str_eq(isakmp_ike_attr_name(12), "LIFE_DURATION");
	free(b);
}
END_TEST

/* SA bodies the SA parser or the attribute decoders refuse. */
static const struct {
	const char *hex;
	int code;
	const char *fragment;
	uint16_t notify;
} bad_sas[] = {
	{ "00000002 00000001 00 00 000c 01 01 00 01 00 00 0008 01 01 0000", -EOPNOTSUPP, "DOI 2 is not IPsec (1)", ISAKMP_N_DOI_NOT_SUPPORTED },
	{ "00000001 00000002 00 00 000c 01 01 00 01 00 00 0008 01 01 0000", -EOPNOTSUPP, "situation 0x2 is not SIT_IDENTITY_ONLY", ISAKMP_N_SITUATION_NOT_SUPPORTED },
	{ "00000001 00000001", -EBADMSG, "SA payload: no proposal", 0 },
	{ "00000001", -EBADMSG, "situation needs 4 bytes, 0 left", 0 },
	{ "00000001 00000001 00 00 0016 01 01 00 01 00 00 000e 01 01 0000 0001 0002 0007", -EBADMSG, "ENCRYPTION_ALGORITHM must be basic (TV), not 2 bytes of TLV", 0 },
	{ "00000001 00000001 00 00 0021 01 01 00 01 00 00 0019 01 01 0000 800b 0001 000c 0009 000000000000000001", -EBADMSG, "life duration of 9 bytes does not fit 64 bits", 0 },
	{ "00000001 00000001 00 00 0014 01 01 00 01 00 00 000c 01 01 0000 800c 0e10", -EBADMSG, "life duration without a life type before it", 0 },
	{ "00000001 00000001 00 00 0014 01 01 00 01 00 00 000c 01 01 0000 800b 0001", -EBADMSG, "life type 1 without a duration", 0 },
	{ "00000001 00000001 00 00 0018 01 01 00 01 00 00 0010 01 01 0000 800b 0003 800c 0e10", -EBADMSG, "life type 3 is neither seconds (1) nor kilobytes (2)", 0 },
	{ "00000001 00000001 00 00 0018 01 01 00 01 00 00 0010 01 01 0000 800b 0001 800c 0000", -EBADMSG, "life duration 0", 0 },
	{ "00000001 00000001 00 00 0014 01 01 00 01 00 00 000c 01 01 0000 8063 0001", -EOPNOTSUPP, "IKE attributes: attribute type 99 is not known", ISAKMP_N_ATTRIBUTES_NOT_SUPPORTED },
	{ "00000001 00000001 00 00 0018 01 03 04 01 c0ffee01 00 00 000c 01 0c 0000 8004 0005", -EBADMSG, "IPsec attributes: encapsulation mode 5 is not known", 0 },
	{ "00000001 00000001 00 00 0018 01 03 04 01 c0ffee01 00 00 000c 01 0c 0000 0004 0000", -EBADMSG, "ENCAPSULATION_MODE must be basic (TV)", 0 },
	{ "00000001 00000001 00 00 0018 01 03 04 01 c0ffee01 00 00 000c 01 0c 0000 8063 0001", -EOPNOTSUPP, "IPsec attributes: attribute type 99 is not known", 0 },
	{ "00000001 00000001 00 00 0018 01 03 08 01 c0ffee01c0ffee01 00 00 0008 01 0c 0000", -EBADMSG, "SPI size 8 is wrong for protocol 3", 0 },
	{ "00000001 00000001 02 00 0014 02 03 04 01 c0ffee01 00 00 0008 01 0c 0000"
	  "00 00 0014 01 02 04 01 c0ffee02 00 00 0008 01 02 0000", -EBADMSG, "number 1 is below the previous 2", 0 },
};

START_TEST(bad_sa_bodies)
{
	uint8_t in[512];
	struct ike_sa *sa = malloc(sizeof(*sa));
	struct ike_err err = { 0 };
	size_t n = hex2bin(bad_sas[_i].hex, in, sizeof(in));
	int rc = isakmp_sa_parse(in, n, sa, &err);

	ck_assert_msg(rc == bad_sas[_i].code, "case %d: rc %d want %d (%s)", _i, rc,
		      bad_sas[_i].code, err.msg);
	ck_assert_msg(strstr(err.msg, bad_sas[_i].fragment) != NULL, "case %d: '%s' lacks '%s'", _i,
		      err.msg, bad_sas[_i].fragment);
	if (bad_sas[_i].notify)
		ck_assert_uint_eq(err.notify, bad_sas[_i].notify);
	free(sa);
}
END_TEST

START_TEST(id_payloads_of_every_type)
{
	union isakmp_body b;

	body_roundtrip(ISAKMP_PL_ID, "01 11 01f4 c0000201", &b);
	ck_assert_uint_eq(b.id.type, ISAKMP_ID_IPV4_ADDR);
	ck_assert_uint_eq(b.id.protocol, 17);
	ck_assert_uint_eq(b.id.port, 500);
	body_roundtrip(ISAKMP_PL_ID, "02 00 0000 67772e6578616d706c65", &b);
	ck_assert_uint_eq(b.id.type, ISAKMP_ID_FQDN);
	body_roundtrip(ISAKMP_PL_ID, "03 00 0000 61406578616d706c65", &b);
	ck_assert_uint_eq(b.id.type, ISAKMP_ID_USER_FQDN);
	body_roundtrip(ISAKMP_PL_ID, "04 06 0000 0a010000 ffff0000", &b);
	ck_assert_str_eq(isakmp_id_type_name(b.id.type), "IPV4_ADDR_SUBNET");
	body_roundtrip(ISAKMP_PL_ID, "05 00 0000 20010db8000000000000000000000001", &b);
	body_roundtrip(ISAKMP_PL_ID, "06 00 0000 20010db8000000000000000000000000 ffffffffffffffff0000000000000000", &b);
	ck_assert_str_eq(isakmp_id_type_name(b.id.type), "IPV6_ADDR_SUBNET");
	body_roundtrip(ISAKMP_PL_ID, "07 00 0000 0a000001 0a0000ff", &b);
	ck_assert_str_eq(isakmp_id_type_name(b.id.type), "IPV4_ADDR_RANGE");
	body_roundtrip(ISAKMP_PL_ID, "08 00 0000 20010db8000000000000000000000001 20010db80000000000000000000000ff", &b);
	body_roundtrip(ISAKMP_PL_ID, "09 00 0000 3000", &b);
	ck_assert_str_eq(isakmp_id_type_name(b.id.type), "DER_ASN1_DN");
	body_roundtrip(ISAKMP_PL_ID, "0b 00 0000 6b6579", &b);
	ck_assert_str_eq(isakmp_id_type_name(b.id.type), "KEY_ID");
}
END_TEST

START_TEST(other_payload_bodies)
{
	union isakmp_body b;

	body_roundtrip(ISAKMP_PL_KE, "0102030405060708", &b);
	ck_assert_uint_eq(b.ke.len, 8);
	body_roundtrip(ISAKMP_PL_CERT, "04 3082", &b);
	ck_assert_uint_eq(b.cert.encoding, 4);
	body_roundtrip(ISAKMP_PL_CR, "04", &b); /* any CA */
	ck_assert_uint_eq(b.cert.data.len, 0);
	body_roundtrip(ISAKMP_PL_HASH, "00112233445566778899aabbccddeeff00112233", &b);
	ck_assert_uint_eq(b.hash.len, 20);
	body_roundtrip(ISAKMP_PL_SIG, "abcdef", &b);
	body_roundtrip(ISAKMP_PL_NONCE, "0001020304050607", &b);
	body_roundtrip(ISAKMP_PL_NAT_D, "00112233445566778899aabbccddeeff00112233", &b);
	body_roundtrip(ISAKMP_PL_NAT_OA, "01 000000 c0000201", &b);
	ck_assert_uint_eq(b.nat_oa.id_type, ISAKMP_ID_IPV4_ADDR);
	body_roundtrip(ISAKMP_PL_VENDOR, "afcad71368a1f1c96b8696fc77570100", &b);
	ck_assert_int_eq(ike_vendor_lookup(b.vendor.p, b.vendor.len)->id, IKE_VID_DPD);
	/* R-U-THERE: protocol ISAKMP, SPI = both cookies, 4-byte sequence number */
	body_roundtrip(ISAKMP_PL_NOTIFY,
		       "00000001 01 10 8d28 21222324252627283132333435363738 0000002a", &b);
	ck_assert_uint_eq(b.notify.type, ISAKMP_N_R_U_THERE);
	ck_assert_str_eq(isakmp_notify_name(b.notify.type), "R-U-THERE");
	ck_assert_uint_eq(b.notify.spi_len, 16);
	ck_assert_uint_eq(b.notify.data.p[3], 42);
	body_roundtrip(ISAKMP_PL_NOTIFY, "00000001 03 04 6002 c0ffee01", &b);
	ck_assert_str_eq(isakmp_notify_name(b.notify.type), "INITIAL-CONTACT");
	body_roundtrip(ISAKMP_PL_NOTIFY, "00000001 03 00 000e", &b);
	ck_assert_str_eq(isakmp_notify_name(b.notify.type), "NO-PROPOSAL-CHOSEN");
	body_roundtrip(ISAKMP_PL_NOTIFY, "00000001 03 04 6000 c0ffee01 800b0001 800c0e10", &b);
	ck_assert_str_eq(isakmp_notify_name(b.notify.type), "RESPONDER-LIFETIME");
	ck_assert_str_eq(isakmp_notify_name(16), "PAYLOAD-MALFORMED");
	ck_assert_str_eq(isakmp_notify_name(36137), "R-U-THERE-ACK");
	body_roundtrip(ISAKMP_PL_DELETE, "00000001 03 04 0002 c0ffee01 c0ffee02", &b);
	ck_assert_uint_eq(b.del.n_spi, 2);
	ck_assert_uint_eq(b.del.spis[7], 2);
	body_roundtrip(ISAKMP_PL_DELETE, "00000001 01 10 0001 21222324252627283132333435363738", &b);
	ck_assert_uint_eq(b.del.protocol, IKE_PROTO_IKE);
}
END_TEST

static const struct {
	uint8_t type;
	const char *hex;
	int code;
	const char *fragment;
} bad_bodies[] = {
	{ ISAKMP_PL_ID, "01 00 0000 c00002", -EBADMSG, "IPV4_ADDR of 3 bytes, not 4" },
	{ ISAKMP_PL_ID, "04 00 0000 0a010000 ffff00", -EBADMSG, "IPV4_ADDR_SUBNET of 7 bytes, not 8" },
	{ ISAKMP_PL_ID, "08 00 0000 20010db8000000000000000000000001", -EBADMSG, "IPV6_ADDR_RANGE of 16 bytes, not 32" },
	{ ISAKMP_PL_ID, "02 00 0000", -EBADMSG, "empty FQDN" },
	{ ISAKMP_PL_ID, "0c 00 0000 00", -EBADMSG, "ID type 12 is not defined" },
	{ ISAKMP_PL_ID, "01 00 00", -EBADMSG, "ID payload: port needs 2 bytes, 1 left" },
	{ ISAKMP_PL_NONCE, "00010203040506", -EBADMSG, "NONCE payload: 7 bytes, outside 8..256" },
	{ ISAKMP_PL_KE, "", -EBADMSG, "KE payload: empty" },
	{ ISAKMP_PL_HASH, "", -EBADMSG, "HASH payload: empty" },
	{ ISAKMP_PL_VENDOR, "", -EBADMSG, "VID payload: empty" },
	{ ISAKMP_PL_NOTIFY, "00000001 01 10 8d28 21222324252627283132333435363738 00002a", -EBADMSG, "R-U-THERE carries 3 bytes" },
	{ ISAKMP_PL_NOTIFY, "00000001 03 05 000e 0102030405", -EBADMSG, "SPI size 5 does not fit protocol 3" },
	{ ISAKMP_PL_NOTIFY, "00000001 03 04 000e 010203", -EBADMSG, "SPI needs 4 bytes, 3 left" },
	{ ISAKMP_PL_NOTIFY, "00000002 03 00 000e", -EOPNOTSUPP, "DOI 2 is neither ISAKMP (0) nor IPsec (1)" },
	{ ISAKMP_PL_NOTIFY, "00000001 03 00", -EBADMSG, "notify type needs 2 bytes, 0 left" },
	{ ISAKMP_PL_DELETE, "00000001 03 04 0000", -EBADMSG, "D payload: no SPI" },
	{ ISAKMP_PL_DELETE, "00000001 03 04 0002 c0ffee01", -EBADMSG, "2 SPIs of 4 bytes but 4 bytes follow" },
	{ ISAKMP_PL_DELETE, "00000001 03 10 0001 21222324252627283132333435363738", -EBADMSG, "SPI size 16 does not fit protocol 3" },
	{ ISAKMP_PL_DELETE, "00000001 01 08 0001 2122232425262728", -EBADMSG, "SPI size 8 does not fit protocol 1" },
	{ ISAKMP_PL_NAT_OA, "01 000000 c00002", -EBADMSG, "ID type 1 with a 3-byte address" },
	{ ISAKMP_PL_NAT_OA, "02 000000 c0000201", -EBADMSG, "ID type 2 with a 4-byte address" },
};

START_TEST(bad_bodies_are_refused_with_a_reason)
{
	uint8_t in[512];
	union isakmp_body *b = malloc(sizeof(*b));
	struct ike_err err = { 0 };
	size_t n = hex2bin(bad_bodies[_i].hex, in, sizeof(in));
	int rc = isakmp_body_parse(bad_bodies[_i].type, in, n, b, &err);

	ck_assert_msg(rc == bad_bodies[_i].code, "case %d: rc %d want %d (%s)", _i, rc,
		      bad_bodies[_i].code, err.msg);
	ck_assert_msg(strstr(err.msg, bad_bodies[_i].fragment) != NULL, "case %d: '%s' lacks '%s'",
		      _i, err.msg, bad_bodies[_i].fragment);
	free(b);
}
END_TEST

static const struct mutation bad_msgs[] = {
	{ "truncated header", MUT_TRUNCATE, 0, 20, -EBADMSG, "ISAKMP header: message ID needs 4 bytes, 0 left", ISAKMP_N_PAYLOAD_MALFORMED },
	{ "length too long", MUT_U32, 24, 121, -EBADMSG, "length 121 but the datagram has 120 bytes", ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS },
	{ "truncated message", MUT_TRUNCATE, 0, 119, -EBADMSG, "length 120 but the datagram has 119", 0 },
	{ "IKEv2 version", MUT_U8, 17, 0x20, -EPROTONOSUPPORT, "major version 2, expected 1", ISAKMP_N_INVALID_MAJOR_VERSION },
	{ "minor version", MUT_U8, 17, 0x11, -EPROTONOSUPPORT, "minor version 1, expected 0", ISAKMP_N_INVALID_MINOR_VERSION },
	{ "exchange type", MUT_U8, 18, 6, -EOPNOTSUPP, "exchange type 6 is not known", ISAKMP_N_INVALID_EXCHANGE_TYPE },
	{ "flags", MUT_U8, 19, 0x08, -EBADMSG, "unknown flags 0x08", ISAKMP_N_INVALID_FLAGS },
	{ "DOI", MUT_U8, 35, 2, -EOPNOTSUPP, "DOI 2 is not IPsec", ISAKMP_N_DOI_NOT_SUPPORTED },
	{ "SA length 3", MUT_U16, 30, 3, -EBADMSG, "payload length 3 is shorter than its 4-byte header", ISAKMP_N_PAYLOAD_MALFORMED },
	{ "SA length past the end", MUT_U16, 30, 0x100, -EBADMSG, "payload length 256 exceeds the 92 bytes left", 0 },
	{ "proposal length past the SA", MUT_U16, 42, 0x31, -EBADMSG, "proposal length 49 exceeds the 48 bytes left", 0 },
	{ "transform length past the proposal", MUT_U16, 50, 0x29, -EBADMSG, "transform length 41 exceeds the 40 bytes left", 0 },
	{ "transform length short", MUT_U16, 50, 0x24, -EBADMSG, "attribute value needs 4 bytes, 0 left", 0 },
	{ "transform count", MUT_U8, 47, 2, -EBADMSG, "declares 2 transforms but holds 1", 0 },
	{ "life duration TLV length", MUT_U16, 82, 5, -EBADMSG, "attribute value needs 5 bytes, 4 left", 0 },
	{ "life type", MUT_U16, 78, 3, -EBADMSG, "life type 3 is neither", 0 },
	{ "unknown IKE attribute", MUT_U16, 56, 0x8063, -EOPNOTSUPP, "attribute type 99 is not known", ISAKMP_N_ATTRIBUTES_NOT_SUPPORTED },
	{ "proposal at top level", MUT_U8, 16, ISAKMP_PL_PROPOSAL, -EOPNOTSUPP, "payload type 2 outside an SA payload", ISAKMP_N_INVALID_PAYLOAD_TYPE },
	{ "unknown payload type", MUT_U8, 88, 50, -EOPNOTSUPP, "INVALID-PAYLOAD-TYPE: payload type 50 is not known", ISAKMP_N_INVALID_PAYLOAD_TYPE },
	{ "nonce too short", MUT_U16, 110, 0x0b, -EBADMSG, "NONCE payload: 7 bytes, outside 8..256", 0 },
	{ "VID zero length", MUT_U16, 90, 4, -EBADMSG, "VID payload: empty", 0 },
	{ "VID length 0", MUT_U16, 90, 0, -EBADMSG, "payload length 0 is shorter than its 4-byte header", 0 },
	{ "next payload past the end", MUT_U8, 108, ISAKMP_PL_HASH, -EBADMSG, "next payload 8 announced but the message ends", 0 },
	{ "trailing bytes", MUT_APPEND, 0, 3, -EBADMSG, "3 bytes after the last payload", 0 },
};

START_TEST(malformed_messages_fail_with_their_reason)
{
	uint8_t b[BUF], in[BUF];
	struct isakmp_msg m;
	struct ike_err err = { 0 };
	const struct mutation *mu = &bad_msgs[_i];
	size_t n = mutate(b, base(b), mu, in);
	int rc = isakmp_msg_parse(in, n, &m, &err);

	ck_assert_msg(rc == mu->code, "%s: rc %d, want %d (%s)", mu->name, rc, mu->code, err.msg);
	ck_assert_msg(strstr(err.msg, mu->fragment) != NULL, "%s: '%s' lacks '%s'", mu->name, err.msg,
		      mu->fragment);
	if (mu->notify)
		ck_assert_uint_eq(err.notify, mu->notify);
	if (mu->notify == ISAKMP_N_INVALID_PAYLOAD_TYPE)
		ck_assert_uint_eq(err.detail, in[mu->off]);
}
END_TEST

START_TEST(private_payloads_skipped)
{
	uint8_t in[BUF];
	struct isakmp_msg m;
	struct ike_err err = { 0 };
	size_t n = base(in);

	in[88] = 200; /* the NONCE becomes private type 200 */
	ck_assert_int_eq(isakmp_msg_parse(in, n, &m, &err), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_uint_eq(m.n_skipped, 1);
}
END_TEST

START_TEST(encrypted_messages_and_padded_chains)
{
	/* Quick Mode plaintext: HASH(1), NONCE, then 5 bytes of padding */
	static const char plain[] = "0a 00 0018 00112233445566778899aabbccddeeff00112233"
				    "00 00 000c 0102030405060708  0000000004";
	uint8_t pt[128], buf[BUF], *ct;
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = ISAKMP_QUICK_MODE,
				.flags = ISAKMP_FLAG_E, .msg_id = 0x01020304 };
	struct isakmp_builder b;
	struct isakmp_msg m = { 0 };
	struct ike_err err = { 0 };
	union isakmp_body body;
	size_t n = hex2bin(plain, pt, sizeof(pt)), bn;

	ck_assert_int_eq(isakmp_chain_parse(ISAKMP_PL_HASH, pt, n, &m, &err), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_uint_eq(m.pl[0].type, ISAKMP_PL_HASH);
	ck_assert_uint_eq(m.pl[1].type, ISAKMP_PL_NONCE);
	ck_assert_uint_eq(m.pad_len, 5);

	/* the same chain from the builder without a header */
	isakmp_build_begin(&b, buf, sizeof(buf), NULL);
	body.hash = (struct ike_blob){ pt + 4, 20 };
	isakmp_build_add(&b, ISAKMP_PL_HASH, &body);
	body.nonce = (struct ike_blob){ pt + 28, 8 };
	isakmp_build_add(&b, ISAKMP_PL_NONCE, &body);
	ck_assert_int_eq(isakmp_build_end(&b, &bn, &err), 0);
	ck_assert_uint_eq(b.first, ISAKMP_PL_HASH);
	ck_assert_uint_eq(bn, n - 5);
	ck_assert_mem_eq(buf, pt, bn);

	/* an encrypted message: header, then ciphertext */
	isakmp_build_begin(&b, buf, sizeof(buf), &h);
	ct = isakmp_build_ciphertext(&b, ISAKMP_PL_HASH, 48);
	ck_assert_ptr_eq(ct, buf + ISAKMP_HDR_LEN);
	memset(ct, 0xab, 48);
	ck_assert_int_eq(isakmp_build_end(&b, &bn, &err), 0);
	ck_assert_uint_eq(bn, 76);
	ck_assert_int_eq(isakmp_msg_parse(buf, bn, &m, &err), 0);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_ptr_eq(m.encrypted.p, buf + ISAKMP_HDR_LEN);
	ck_assert_uint_eq(m.encrypted.len, 48);
	ck_assert_uint_eq(m.hdr.next_payload, ISAKMP_PL_HASH);
	ck_assert_int_eq(isakmp_build_end(&b, &bn, &err), 0);
	isakmp_build_raw(&b, ISAKMP_PL_VENDOR, buf, 4);
	ck_assert_int_eq(isakmp_build_end(&b, &bn, &err), -EINVAL);
	/* no payload after the header of an encrypted message */
	ck_assert_int_eq(isakmp_msg_parse(buf, ISAKMP_HDR_LEN, &m, &err), -EBADMSG);
	ck_assert_uint_eq(err.code, -EBADMSG);
}
END_TEST

START_TEST(scapy_main_and_aggressive_mode)
{
	uint8_t in[BUF], out[BUF];
	struct isakmp_msg m;
	union isakmp_body *b = malloc(sizeof(*b));
	struct isakmp_ike_policy pol;
	struct ike_err err = { 0 };
	size_t n = load_vector("isakmp_main_mode", in, sizeof(in)), rn;

	ck_assert_msg(isakmp_msg_parse(in, n, &m, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(m.hdr.exchange, ISAKMP_MAIN_MODE);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_int_eq(isakmp_sa_parse(m.pl[0].body.p, m.pl[0].body.len, &b->sa, &err), 0);
	ck_assert_int_eq(isakmp_ike_attrs_decode(&b->sa, &b->sa.tr[0], &pol, &err), 0);
	ck_assert_uint_eq(pol.enc, 7);
	ck_assert_uint_eq(pol.key_len, 256);
	ck_assert_uint_eq(pol.hash, 2);
	ck_assert_uint_eq(pol.auth, 1);
	ck_assert_uint_eq(pol.group, 14);
	ck_assert_uint_eq(pol.life_secs, 28800);
	ck_assert_int_eq(ike_vendor_lookup(m.pl[1].body.p, m.pl[1].body.len)->id, IKE_VID_NATT_RFC3947);
	ck_assert_int_eq(ike_vendor_lookup(m.pl[2].body.p, m.pl[2].body.len)->id, IKE_VID_DPD);
	ck_assert_int_eq(isakmp_msg_rebuild(&m, out, sizeof(out), &rn, &err), 0);
	ck_assert_uint_eq(rn, n);
	ck_assert_mem_eq(out, in, n);

	n = load_vector("isakmp_aggressive", in, sizeof(in));
	ck_assert_msg(isakmp_msg_parse(in, n, &m, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(m.hdr.exchange, ISAKMP_AGGRESSIVE);
	ck_assert_mem_eq(m.hdr.rcookie, "\x31\x32\x33\x34\x35\x36\x37\x38", 8);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(m.pl[0].type, ISAKMP_PL_KE);
	ck_assert_uint_eq(m.pl[0].body.len, 128);
	ck_assert_uint_eq(m.pl[1].body.len, 20);
	ck_assert_int_eq(isakmp_id_parse(m.pl[2].body.p, m.pl[2].body.len, &b->id, &err), 0);
	ck_assert_uint_eq(b->id.type, ISAKMP_ID_IPV4_ADDR);
	ck_assert_uint_eq(b->id.protocol, 17);
	ck_assert_uint_eq(b->id.port, 500);
	ck_assert_mem_eq(b->id.data.p, "\xc0\x00\x02\x07", 4);
	free(b);
}
END_TEST

START_TEST(vendor_ids_are_the_md5_of_their_strings)
{
	size_t n, checked = 0;
	const struct ike_vendor *t = ike_vendor_table(&n);
	uint8_t md[EVP_MAX_MD_SIZE], probe[24];
	unsigned mdlen;

	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(t[i].id, (int)i);
		ck_assert_ptr_eq(ike_vendor_lookup(t[i].bytes, t[i].len), &t[i]);
		if (t[i].source == NULL)
			continue;
		ck_assert_int_eq(EVP_Digest(t[i].source, strlen(t[i].source), md, &mdlen, EVP_md5(),
					    NULL), 1);
		ck_assert_msg(memcmp(md, t[i].bytes, t[i].len) == 0, "%s", t[i].name);
		checked++;
	}
	ck_assert_uint_ge(checked, 14);
	/* Cisco Unity: MD5 with a version in its last two bytes */
	memcpy(probe, t[IKE_VID_CISCO_UNITY].bytes, 14);
	memcpy(probe + 14, "\x01\x00", 2);
	ck_assert_ptr_eq(ike_vendor_lookup(probe, 16), &t[IKE_VID_CISCO_UNITY]);
	/* prefix entries take trailing version bytes, exact ones do not */
	memcpy(probe, t[IKE_VID_MS_NT5].bytes, 16);
	memcpy(probe + 16, "\x00\x00\x00\x09", 4);
	ck_assert_ptr_eq(ike_vendor_lookup(probe, 20), &t[IKE_VID_MS_NT5]);
	memcpy(probe, t[IKE_VID_NATT_RFC3947].bytes, 16);
	ck_assert_ptr_null(ike_vendor_lookup(probe, 17));
	ck_assert_ptr_null(ike_vendor_lookup(probe, 15));
	/* RFC 3706's DPD bytes, as printed in the RFC */
	ck_assert_ptr_eq(ike_vendor_lookup((const uint8_t *)"\xaf\xca\xd7\x13\x68\xa1\xf1\xc9\x6b\x86\x96\xfc\x77\x57\x01\x00", 16),
			 &t[IKE_VID_DPD]);
}
END_TEST

/* ---- random well-formed messages ---- */

static void random_sa(uint32_t *s, struct ike_sa *sa)
{
	int np = 1 + (int)(rnd(s) % 3);

	memset(sa, 0, sizeof(*sa));
	sa->doi = ISAKMP_DOI_IPSEC;
	sa->situation = ISAKMP_SIT_IDENTITY_ONLY;
	for (int p = 0; p < np; p++) {
		bool ike = p == 0 && (rnd(s) & 1);
		uint8_t spi[4];

		rnd_bytes(s, spi, 4);
		ck_assert_int_eq(ike_sa_add_proposal(sa, (uint8_t)(p + 1),
						     ike ? IKE_PROTO_IKE : IKE_PROTO_ESP, spi,
						     ike ? 0 : 4), 0);
		for (int t = 0; t < 1 + (int)(rnd(s) % 4); t++) {
			ck_assert_int_eq(ike_sa_add_transform(sa, (uint8_t)(t + 1), (uint8_t)rnd(s)), 0);
			ck_assert_int_eq(ike_sa_add_attr_tv(sa, ike ? ISAKMP_IKE_LIFE_TYPE :
								       ISAKMP_IPSEC_SA_LIFE_TYPE,
							    ISAKMP_LIFE_SECONDS), 0);
			ck_assert_int_eq(ike_sa_add_attr_tv(sa, ike ? ISAKMP_IKE_LIFE_DURATION :
								       ISAKMP_IPSEC_SA_LIFE_DURATION,
							    (uint16_t)(1 + rnd(s) % 60000)), 0);
			ck_assert_int_eq(ike_sa_add_attr_tv(sa, ike ? ISAKMP_IKE_GROUP_DESCRIPTION :
								       ISAKMP_IPSEC_ENCAPSULATION_MODE,
							    (uint16_t)(1 + rnd(s) % 4)), 0);
		}
	}
}

static uint8_t random_body(uint32_t *s, union isakmp_body *b, uint8_t *pool)
{
	static const uint8_t types[] = { ISAKMP_PL_SA, ISAKMP_PL_KE, ISAKMP_PL_ID, ISAKMP_PL_CERT,
					 ISAKMP_PL_CR, ISAKMP_PL_HASH, ISAKMP_PL_SIG,
					 ISAKMP_PL_NONCE, ISAKMP_PL_NOTIFY, ISAKMP_PL_DELETE,
					 ISAKMP_PL_VENDOR, ISAKMP_PL_NAT_D, ISAKMP_PL_NAT_OA };
	uint8_t t = types[rnd(s) % sizeof(types)];
	uint16_t len = (uint16_t)(8 + rnd(s) % 100);

	rnd_bytes(s, pool, 256);
	switch (t) {
	case ISAKMP_PL_SA: random_sa(s, &b->sa); break;
	case ISAKMP_PL_ID:
		b->id = (struct isakmp_id){ ISAKMP_ID_FQDN, (uint8_t)rnd(s), (uint16_t)rnd(s), { pool, len } };
		break;
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR: b->cert = (struct isakmp_cert){ 4, { pool, len } }; break;
	case ISAKMP_PL_NOTIFY:
		b->notify = (struct isakmp_notify){ .doi = 1, .protocol = IKE_PROTO_ESP, .spi_len = 4,
						    .type = (uint16_t)(1 + rnd(s) % 30),
						    .data = { pool, len } };
		rnd_bytes(s, b->notify.spi, 4);
		break;
	case ISAKMP_PL_DELETE:
		b->del = (struct isakmp_delete){ 1, IKE_PROTO_ESP, 4, (uint16_t)(1 + len / 8), pool };
		break;
	case ISAKMP_PL_NAT_OA: b->nat_oa = (struct isakmp_nat_oa){ ISAKMP_ID_IPV4_ADDR, { pool, 4 } }; break;
	default: b->ke = (struct ike_blob){ pool, len }; break;
	}
	return t;
}

START_TEST(random_messages_round_trip)
{
	static uint8_t pools[ISAKMP_MAX_PAYLOADS][256], buf[65536], again[65536];
	union isakmp_body *b = malloc(sizeof(*b));
	uint32_t seed = 0x15a4c0de;

	for (int iter = 0; iter < 500; iter++) {
		static const uint8_t xchg[] = { 2, 4, 5, 32 };
		struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = xchg[rnd(&seed) % 4],
					.flags = (uint8_t)(rnd(&seed) & 6), .msg_id = rnd(&seed) };
		struct isakmp_builder bld;
		struct isakmp_msg m;
		struct ike_err err = { 0 };
		uint8_t types[ISAKMP_MAX_PAYLOADS];
		int np = 1 + (int)(rnd(&seed) % 10);
		size_t n, n2;

		rnd_bytes(&seed, h.icookie, 8);
		rnd_bytes(&seed, h.rcookie, 8);
		isakmp_build_begin(&bld, buf, sizeof(buf), &h);
		for (int i = 0; i < np; i++) {
			types[i] = random_body(&seed, b, pools[i]);
			isakmp_build_add(&bld, types[i], b);
		}
		ck_assert_int_eq(isakmp_build_end(&bld, &n, &err), 0);
		ck_assert_msg(isakmp_msg_parse(buf, n, &m, &err) == 0, "iter %d: %s", iter, err.msg);
		ck_assert_int_eq(m.n, np);
		for (int i = 0; i < np; i++)
			ck_assert_uint_eq(m.pl[i].type, types[i]);
		ck_assert_int_eq(isakmp_msg_rebuild(&m, again, sizeof(again), &n2, &err), 0);
		ck_assert_uint_eq(n2, n);
		ck_assert_msg(memcmp(again, buf, n) == 0, "iter %d: rebuilt bytes differ", iter);
	}
	free(b);
}
END_TEST

static Suite *isakmp_codec_suite(void)
{
	Suite *s = suite_create("isakmp_codec");
	TCase *tc = tcase_create("isakmp");

	tcase_add_test(tc, main_mode_message_parses_decodes_describes);
	tcase_add_test(tc, builder_makes_the_hand_written_message);
	tcase_add_test(tc, ipsec_doi_sa_with_nat_t_modes_and_long_lifetimes);
	tcase_add_loop_test(tc, bad_sa_bodies, 0, sizeof(bad_sas) / sizeof(bad_sas[0]));
	tcase_add_test(tc, id_payloads_of_every_type);
	tcase_add_test(tc, other_payload_bodies);
	tcase_add_loop_test(tc, bad_bodies_are_refused_with_a_reason, 0,
			    sizeof(bad_bodies) / sizeof(bad_bodies[0]));
	tcase_add_loop_test(tc, malformed_messages_fail_with_their_reason, 0,
			    sizeof(bad_msgs) / sizeof(bad_msgs[0]));
	tcase_add_test(tc, private_payloads_skipped);
	tcase_add_test(tc, encrypted_messages_and_padded_chains);
	tcase_add_test(tc, scapy_main_and_aggressive_mode);
	tcase_add_test(tc, vendor_ids_are_the_md5_of_their_strings);
	tcase_add_test(tc, random_messages_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(isakmp_codec_suite());
}
