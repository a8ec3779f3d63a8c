/* ike_emit.c - builds a few IKEv2 and ISAKMP messages with the dpsec codec
 * and prints each as "NAME HEX" on its own line, for check_with_scapy.py to
 * parse with scapy (the reverse of the scapy-made vectors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_msg.h"
#include "ike_vendor.h"

static uint8_t buf[4096], pool[256];
static union ikev2_body b2;
static union isakmp_body b1;

static void print(const char *name, size_t n)
{
	printf("%s ", name);
	for (size_t i = 0; i < n; i++)
		printf("%02x", buf[i]);
	printf("\n");
}

static void ikev2_sa_init(void)
{
	struct ikev2_hdr h = { .spi_i = { 1, 2, 3, 4, 5, 6, 7, 8 }, .version = IKEV2_VERSION,
			       .exchange = IKEV2_IKE_SA_INIT, .flags = IKEV2_FLAG_I };
	const struct ike_vendor *ss = &ike_vendor_table(&(size_t){ 0 })[IKE_VID_STRONGSWAN];
	struct ikev2_builder b;
	size_t n;

	ikev2_build_begin(&b, buf, sizeof(buf), &h);
	ike_sa_add_proposal(&b2.sa, 1, IKE_PROTO_IKE, NULL, 0);
	ike_sa_add_transform(&b2.sa, IKEV2_TR_ENCR, 12);
	ike_sa_add_attr_tv(&b2.sa, IKEV2_ATTR_KEY_LENGTH, 256);
	ike_sa_add_transform(&b2.sa, IKEV2_TR_PRF, 5);
	ike_sa_add_transform(&b2.sa, IKEV2_TR_INTEG, 12);
	ike_sa_add_transform(&b2.sa, IKEV2_TR_DH, 14);
	ikev2_build_add(&b, IKEV2_PL_SA, false, &b2);
	b2.ke = (struct ikev2_ke){ 14, { pool, 32 } };
	ikev2_build_add(&b, IKEV2_PL_KE, false, &b2);
	b2.nonce = (struct ike_blob){ pool + 32, 32 };
	ikev2_build_add(&b, IKEV2_PL_NONCE, false, &b2);
	b2.notify = (struct ikev2_notify){ .type = IKEV2_N_NAT_DETECTION_SOURCE_IP,
					   .data = { pool + 64, 20 } };
	ikev2_build_add(&b, IKEV2_PL_NOTIFY, false, &b2);
	b2.vendor = (struct ike_blob){ ss->bytes, ss->len };
	ikev2_build_add(&b, IKEV2_PL_VENDOR, false, &b2);
	if (ikev2_build_end(&b, &n, NULL))
		exit(1);
	print("ikev2_sa_init", n);
}

static void ikev2_ts(void)
{
	struct ikev2_hdr h = { .spi_i = { 1 }, .spi_r = { 2 }, .version = IKEV2_VERSION,
			       .exchange = IKEV2_CREATE_CHILD_SA, .flags = IKEV2_FLAG_R, .msg_id = 5 };
	struct ikev2_builder b;
	size_t n;

	ikev2_build_begin(&b, buf, sizeof(buf), &h);
	b2.ts = (struct ikev2_ts_list){ .n = 1 };
	b2.ts.ts[0] = (struct ikev2_ts){ IKEV2_TS_IPV4_ADDR_RANGE, 6, 80, 443,
					 { 10, 0, 0, 1 }, { 10, 0, 0, 254 } };
	ikev2_build_add(&b, IKEV2_PL_TSI, false, &b2);
	b2.id = (struct ikev2_id){ IKEV2_ID_FQDN, { (const uint8_t *)"peer.example", 12 } };
	ikev2_build_add(&b, IKEV2_PL_IDR, false, &b2);
	if (ikev2_build_end(&b, &n, NULL))
		exit(1);
	print("ikev2_ts", n);
}

static void isakmp_main_mode(void)
{
	struct isakmp_hdr h = { .icookie = { 0x21, 0x22 }, .version = ISAKMP_VERSION,
				.exchange = ISAKMP_MAIN_MODE };
	const struct ike_vendor *v = &ike_vendor_table(&(size_t){ 0 })[IKE_VID_NATT_RFC3947];
	struct isakmp_builder b;
	size_t n;

	b1.sa.doi = ISAKMP_DOI_IPSEC;
	b1.sa.situation = ISAKMP_SIT_IDENTITY_ONLY;
	ike_sa_add_proposal(&b1.sa, 1, IKE_PROTO_IKE, NULL, 0);
	ike_sa_add_transform(&b1.sa, 1, 1);
	ike_sa_add_attr_tv(&b1.sa, ISAKMP_IKE_ENCRYPTION_ALGORITHM, 7);
	ike_sa_add_attr_tv(&b1.sa, ISAKMP_IKE_KEY_LENGTH, 128);
	ike_sa_add_attr_tv(&b1.sa, ISAKMP_IKE_HASH_ALGORITHM, 4);
	ike_sa_add_attr_tv(&b1.sa, ISAKMP_IKE_AUTHENTICATION_METHOD, 1);
	ike_sa_add_attr_tv(&b1.sa, ISAKMP_IKE_GROUP_DESCRIPTION, 14);
	ike_sa_add_attr_tv(&b1.sa, ISAKMP_IKE_LIFE_TYPE, ISAKMP_LIFE_SECONDS);
	ike_sa_add_attr_tv(&b1.sa, ISAKMP_IKE_LIFE_DURATION, 3600);
	isakmp_build_begin(&b, buf, sizeof(buf), &h);
	isakmp_build_add(&b, ISAKMP_PL_SA, &b1);
	b1.vendor = (struct ike_blob){ v->bytes, v->len };
	isakmp_build_add(&b, ISAKMP_PL_VENDOR, &b1);
	b1.nonce = (struct ike_blob){ pool, 16 };
	isakmp_build_add(&b, ISAKMP_PL_NONCE, &b1);
	if (isakmp_build_end(&b, &n, NULL))
		exit(1);
	print("isakmp_main_mode", n);
}

static void isakmp_aggressive(void)
{
	struct isakmp_hdr h = { .icookie = { 0x21 }, .rcookie = { 0x31 }, .version = ISAKMP_VERSION,
				.exchange = ISAKMP_AGGRESSIVE };
	struct isakmp_builder b;
	size_t n;

	isakmp_build_begin(&b, buf, sizeof(buf), &h);
	b1.ke = (struct ike_blob){ pool, 64 };
	isakmp_build_add(&b, ISAKMP_PL_KE, &b1);
	b1.id = (struct isakmp_id){ ISAKMP_ID_IPV4_ADDR, 17, 500, { (const uint8_t *)"\xc0\x00\x02\x09", 4 } };
	isakmp_build_add(&b, ISAKMP_PL_ID, &b1);
	if (isakmp_build_end(&b, &n, NULL))
		exit(1);
	print("isakmp_aggressive", n);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = (uint8_t)i;
	ikev2_sa_init();
	ikev2_ts();
	isakmp_main_mode();
	isakmp_aggressive();
	return 0;
}
