/* test_crypto.c - the CPU crypto engine (offload/ofl_cpu.c) against vectors
 * nobody here wrote: the GCM specification (McGrew & Viega, test cases 3, 4,
 * 9, 10, 15, 16), the ESP packets of draft-mcgrew-gcm-test-01, RFC 3602
 * AES-CBC, the NIST SP 800-67 TDEA example for 3DES, RFC 2202 HMAC-SHA-1 and
 * RFC 4231 HMAC-SHA-256, -384 and -512, RFC 3566 AES-XCBC-MAC-96 and RFC
 * 4494 AES-CMAC-96, RFC 8439's ChaCha20-Poly1305 AEAD example, NIST CAVP's
 * GCM vectors without plaintext for AES-GMAC (RFC 4543); its CSPRNG,
 * ICV comparison and what it refuses to prepare. Random bursts against
 * OpenSSL are test_crypto_burst.c's. */
#include "crypto_world.h"

/* ---- AES-GCM: the specification and draft-mcgrew-gcm-test-01 ------------ */

struct gcm_vec {
	const char *name, *key, *nonce, *aad, *pt, *ct, *tag;
};

#define SPEC_P                                                             \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define SPEC_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"

static const struct gcm_vec gcm_vecs[] = {
	/* McGrew & Viega, "The Galois/Counter Mode of Operation", App. B */
	{"spec TC3", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
	 SPEC_P "1aafd255",
	 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	 "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
	 "4d5c2af327cd64a62cf35abd2ba6fab4"},
	{"spec TC4", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", SPEC_A, SPEC_P,
	 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	 "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	 "5bc94fbc3221a5db94fae95ae7121a47"},
	{"spec TC9", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabefacedbaddecaf888",
	 "", SPEC_P "1aafd255",
	 "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
	 "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256",
	 "9924a7c8587336bfb118024db8674a14"},
	{"spec TC10", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabefacedbaddecaf888",
	 SPEC_A, SPEC_P,
	 "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
	 "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
	 "2519498e80f1478f37ba55bd6d27618c"},
	{"spec TC15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	 "cafebabefacedbaddecaf888", "", SPEC_P "1aafd255",
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	 "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	 "b094dac5d93471bdec1a502270e3cc6c"},
	{"spec TC16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	 "cafebabefacedbaddecaf888", SPEC_A, SPEC_P,
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	 "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	 "76fc6ece0f4e1768cddf8853bb2d551b"},
	/* draft-mcgrew-gcm-test-01 §4: ESP packets, nonce = salt || IV, AAD =
	 * SPI || seq (8 bytes) or SPI || ESN (12) */
	{"draft TC1", "4c80cdefbb5d10da906ac73c3613a634", "2e443b684956ed7e3b244cfe",
	 "000043218765432100000000",
	 "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
	 "00000000045f736970045f756470037369700963796265726369747902646b00"
	 "0021000101020201",
	 "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
	 "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
	 "61bc17d768fd9732",
	 "459018148f6cbe722fd04796562dfdb4"},
	{"draft TC3", "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
	 "112233440102030405060708", "4a2cbfe300000002",
	 "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	 "7002400020bf0000020405b40101040201020201",
	 "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	 "748a637985771d347f0545659f14e99def842d8e",
	 "b335f4eecfdbf831824b4c4915956c96"},
	{"draft TC4", "00000000000000000000000000000000", "000000000000000000000000",
	 "0000000000000001",
	 "4500003c99c500008001cb7a40679318010101010800075c0200440061626364"
	 "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	 "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"
	 "456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3",
	 "f821d496eeb096e98ad2b69e4799c71d"},
	{"draft TC5", "3de09874b388e6491988d0c3607eae1f", "57690e434e280000a2fca1a3",
	 "42f67e3f1010101010101010",
	 "4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
	 "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	 "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c357917"
	 "65acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a",
	 "e0d731cc978ecafaeae88f00e80d6e48"},
	{"draft TC6", "3de09874b388e6491988d0c3607eae1f", "57690e434e280000a2fca1a3",
	 "42f67e3f1010101010101010", "4500001c42a200008001441f406793b6e00000020a00f5ff01020201",
	 "fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed",
	 "369f071f35e034be95f112e4e7d05d35"},
	{"draft TC8", "abbccddef00112233445566778899aab", "decaf888cafedebaceface74",
	 "000001000000000000000001",
	 "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5"
	 "00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95"
	 "9b6266c04722b14923010101",
	 "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f"
	 "9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c22"
	 "6f2127b27db35724e7845d68",
	 "651f57e65f354f75ff17015769623436"},
	{"draft TC9", "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
	 "73616c74616e640169766563", "17405e67156f3126dd0db99b",
	 "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602"
	 "50101f646d540001",
	 "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
	 "f4d3a31ce673119e",
	 "451626c2415771e3b7eebca614c89b35"},
	{"draft TC10", "3de09874b388e6491988d0c3607eae1f", "57690e434e280000a2fca1a3",
	 "42f67e3f1010101010101010",
	 "45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b"
	 "000001e0001e8c18d65759d52284a0352c71475c8880391c764d6e5ee0496b32"
	 "5ae270c03899493915010101",
	 "fba2cad12fc1f9f00d3cebf305410db83d7784b607323d220f24b0a97d541828"
	 "00cadb0f68d99ef0e0c0c89ae9bea8884e52d65bc1afd0740f742444747b5b39"
	 "ab533163aad4550ee5160975",
	 "cdb608c5769189609763b8e18caa81e2"},
	{"draft TC11", "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
	 "73616c74616e640169766563", "17405e67156f3126dd0db99b",
	 "636973636f0172756c657301746865016e6574776501646566696e6501746865"
	 "746563686e6f6c6f67696573017468617477696c6c01646566696e65746f6d6f"
	 "72726f7701020201",
	 "d4b7ed86a1777f2ea13d6973d324c69e7b43f826fb56831226508bebd2dceb18"
	 "d0a6df10e5487df074113e14c641024e3e6773d91a62ee429b043a10e3efe6b0"
	 "12a49363412364f8",
	 "c0cac587f249e56b11e24f30e44ccc76"},
	{"draft TC12", "7d773d00c144c525ac619d18c84a3f47", "d966426743457e9182443bc6",
	 "335467aeffffffff", "01020201", "437f866b", "cb3f699fe9b0822bac961c4504bef270"},
	{"draft TC13", "abbccddef00112233445566778899aab", "decaf888cafedebaceface74",
	 "000001000000000000000001", "746f016265016f72016e6f7401746f0162650001",
	 "29c9fc69a197d038ccdd14e2ddfcaa0543332164", "412503524303ed3c6c5f283843af8c3e"},
	{"draft TC14", "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961",
	 "7475726e333021696765746d", "796b6963ffffffffffffffff",
	 "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
	 "65666768696a6b6c6d6e6f707172737401020201",
	 "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
	 "4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9",
	 "d0937ba2945f669368661a329fb4c053"},
};
#define N_GCM_VECS ((int)(sizeof(gcm_vecs) / sizeof(gcm_vecs[0])))

struct gcm_case {
	struct ofl_sa_crypto k;
	uint8_t nonce[12], aad[32], pt[256], ct[256], tag[16];
	size_t aad_len, len;
};

static void gcm_case_load(const struct gcm_vec *v, struct gcm_case *g)
{
	struct dpsec_sa_conf c;
	uint8_t key[32];
	size_t key_len = unhex(v->key, key, sizeof(key));

	ck_assert_uint_eq(unhex(v->nonce, g->nonce, sizeof(g->nonce)), 12);
	g->aad_len = unhex(v->aad, g->aad, sizeof(g->aad));
	g->len = unhex(v->pt, g->pt, sizeof(g->pt));
	ck_assert_uint_eq(unhex(v->ct, g->ct, sizeof(g->ct)), g->len);
	ck_assert_uint_eq(unhex(v->tag, g->tag, sizeof(g->tag)), 16);
	conf_gcm(&c, key, (uint8_t)key_len, g->nonce); /* salt: the nonce's first 4 bytes */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &g->k), 0);
	ck_assert_uint_eq(g->k.iv_len, 8);
	ck_assert_uint_eq(g->k.icv_len, 16);
	ck_assert_uint_eq(g->k.block_len, 4);
	ck_assert_mem_eq(g->k.salt, g->nonce, 4);
}

/* One op as esp_out/esp_in describe it: payload at an offset in a larger
 * buffer, nonce = SA salt || 8-byte IV. */
static void gcm_op(struct gcm_case *g, uint8_t *buf, uint8_t *nonce, uint8_t *tag, bool encrypt,
		   struct ofl_op *op)
{
	memcpy(nonce, g->k.salt, 4);
	memcpy(nonce + 4, g->nonce + 4, 8);
	*op = (struct ofl_op){.sa = &g->k, .buf = buf, .cipher_off = 16,
			      .cipher_len = (uint32_t)g->len, .auth_len = (uint32_t)g->len, .iv = nonce,
			      .aad = g->aad_len ? g->aad : NULL, .aad_len = (uint8_t)g->aad_len,
			      .encrypt = encrypt, .tag = tag};
}

START_TEST(test_gcm_vectors)
{
	const struct gcm_vec *v = &gcm_vecs[_i];
	struct gcm_case g;
	uint8_t buf[16 + 256 + 16], nonce[12], tag[16];
	struct ofl_op op;

	gcm_case_load(v, &g);
	memset(buf, GUARD, sizeof(buf));
	memcpy(buf + 16, g.pt, g.len);
	gcm_op(&g, buf, nonce, tag, true, &op);
	run1(&op);
	ck_assert_msg(memcmp(buf + 16, g.ct, g.len) == 0, "%s: ciphertext", v->name);
	ck_assert_msg(memcmp(tag, g.tag, 16) == 0, "%s: tag", v->name);
	ck_assert(all_bytes(buf, 16, GUARD) && all_bytes(buf + 16 + g.len, 16, GUARD));

	gcm_op(&g, buf, nonce, tag, false, &op);
	memset(tag, 0, sizeof(tag));
	run1(&op);
	ck_assert_msg(memcmp(buf + 16, g.pt, g.len) == 0, "%s: decrypted", v->name);
	ck_assert_msg(ofl_icv_equal(tag, g.tag, 16), "%s: decrypt-side tag", v->name);

	memcpy(buf + 16, g.ct, g.len); /* a flipped ciphertext bit */
	buf[16 + g.len - 1] ^= 0x01;
	run1(&op);
	ck_assert_msg(!ofl_icv_equal(tag, g.tag, 16), "%s: tampered ciphertext verified", v->name);
	if (g.aad_len > 0) { /* a flipped AAD bit: the sequence number */
		memcpy(buf + 16, g.ct, g.len);
		g.aad[g.aad_len - 1] ^= 0x80;
		run1(&op);
		ck_assert_msg(!ofl_icv_equal(tag, g.tag, 16), "%s: tampered AAD verified", v->name);
	}
}
END_TEST

/* ---- ChaCha20-Poly1305: RFC 8439 §2.8.2 (RFC 7539's), as ESP gives it -- */

/* The example's nonce is 07000000 || 4041424344454647: an SA with salt
 * 07000000 (RFC 7634 §2: the last 4 bytes of its key material) sending IV
 * 4041424344454647; its 12-byte AAD is what ESN makes (SPI || seq hi ||
 * seq lo). */
START_TEST(test_chacha_vector)
{
	static const char *pt_s = "Ladies and Gentlemen of the class of '99: If I could offer you "
				  "only one tip for the future, sunscreen would be it.";
	struct gcm_vec v = {
		.name = "RFC 8439 2.8.2",
		.key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
		.nonce = "070000004041424344454647", .aad = "50515253c0c1c2c3c4c5c6c7",
		.ct = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
		      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
		      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
		      "3ff4def08e4b7a9de576d26586cec64b6116",
		.tag = "1ae10b594f09e26a7e902ecbd0600691" };
	struct dpsec_sa_conf c;
	struct gcm_case g;
	uint8_t key[32], buf[16 + 256 + 16], nonce[12], tag[16];
	struct ofl_op op;

	ck_assert_uint_eq(unhex(v.key, key, sizeof(key)), 32);
	ck_assert_uint_eq(unhex(v.nonce, g.nonce, sizeof(g.nonce)), 12);
	g.aad_len = unhex(v.aad, g.aad, sizeof(g.aad));
	g.len = strlen(pt_s);
	memcpy(g.pt, pt_s, g.len);
	ck_assert_uint_eq(unhex(v.ct, g.ct, sizeof(g.ct)), g.len);
	ck_assert_uint_eq(unhex(v.tag, g.tag, sizeof(g.tag)), 16);
	conf_chacha(&c, key, g.nonce);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &g.k), 0);
	ck_assert_uint_eq(g.k.iv_len, 8);
	ck_assert_uint_eq(g.k.icv_len, 16);
	ck_assert_uint_eq(g.k.block_len, 4);

	memset(buf, GUARD, sizeof(buf));
	memcpy(buf + 16, g.pt, g.len);
	gcm_op(&g, buf, nonce, tag, true, &op);
	run1(&op);
	ck_assert_mem_eq(buf + 16, g.ct, g.len);
	ck_assert_mem_eq(tag, g.tag, 16);
	ck_assert(all_bytes(buf, 16, GUARD) && all_bytes(buf + 16 + g.len, 16, GUARD));

	gcm_op(&g, buf, nonce, tag, false, &op);
	memset(tag, 0, sizeof(tag));
	run1(&op);
	ck_assert_mem_eq(buf + 16, g.pt, g.len);
	ck_assert(ofl_icv_equal(tag, g.tag, 16));

	memcpy(buf + 16, g.ct, g.len); /* a flipped ciphertext bit, then AAD bit */
	buf[16] ^= 0x01;
	run1(&op);
	ck_assert(!ofl_icv_equal(tag, g.tag, 16));
	memcpy(buf + 16, g.ct, g.len);
	g.aad[0] ^= 0x80;
	run1(&op);
	ck_assert(!ofl_icv_equal(tag, g.tag, 16));
}
END_TEST

/* ---- AES-GMAC (RFC 4543): NIST CAVP GCM vectors without plaintext ------- */

/* AES-GMAC is AES-GCM with nothing to encrypt (RFC 4543): the tag of
 * GCM over an empty plaintext with AAD = SPI || seq (|| ESN) || IV ||
 * payload and trailer. So a GCM vector with PTlen 0 is one, its AAD cut
 * into the op's aad (aad_len bytes), the 8 bytes the engine reads before
 * the cipher range as the packet's IV, and the cipher range. These are
 * not packets: the nonce's last 8 bytes are not those 8 (the engine takes
 * the nonce from op->iv), and the 16-byte vector leaves an empty cipher
 * range, which ESP never has. */
struct gmac_vec {
	const char *name, *key, *nonce, *aad, *tag;
	uint8_t aad_len;
};

#define CAVP_AAD384 \
	"b668e42d4e444ca8b23cfdd95a9fedd5178aa521144890b093733cf5cf22526c" \
	"5917ee476541809ac6867a8c399309fc"

static const struct gmac_vec gmac_vecs[] = {
	/* gcmEncryptExtIV128.rsp, [PTlen = 0] [AADlen = 128] and [AADlen =
	 * 384], Count = 0; the tags checked with OpenSSL's AES-128-GCM */
	{"CAVP AAD 128 #0", "77be63708971c4e240d1cb79e8d77feb", "e0e00f19fed7ba0136a797f3",
	 "7a43ec1d9c0a5a78a0b16533a6213cab", "209fcc8d3675ed938e9c7166709dd946", 8},
	{"CAVP AAD 384 #0", "99e3e8793e686e571d8285c564f75e2b", "c2dd0ab868da6aa8ad9c0d23",
	 CAVP_AAD384, "3f4fba100eaf1f34b0baadaae9995d85", 8},
	{"CAVP AAD 384 #0, ESN", "99e3e8793e686e571d8285c564f75e2b", "c2dd0ab868da6aa8ad9c0d23",
	 CAVP_AAD384, "3f4fba100eaf1f34b0baadaae9995d85", 12},
};
#define N_GMAC_VECS ((int)(sizeof(gmac_vecs) / sizeof(gmac_vecs[0])))

/* Both directions give the vector's tag and leave the buffer as it was;
 * a flipped bit of the AAD, of the IV and of the cipher range each change
 * the tag; an op without room for the AAD before its IV is refused. */
START_TEST(test_gmac_vectors)
{
	const struct gmac_vec *v = &gmac_vecs[_i];
	uint8_t key[16], nonce[12], aad[64], want[16], buf[16 + 64 + 16], copy[sizeof(buf)];
	uint8_t tag[DPSEC_MAX_ICV];
	size_t aad_len = unhex(v->aad, aad, sizeof(aad)), len = aad_len - v->aad_len - 8;
	struct ofl_sa_crypto k;
	struct dpsec_sa_conf c;
	uint8_t *flips[3];
	struct ofl_op op;

	ck_assert_uint_eq(unhex(v->key, key, sizeof(key)), 16);
	ck_assert_uint_eq(unhex(v->nonce, nonce, sizeof(nonce)), 12);
	ck_assert_uint_eq(unhex(v->tag, want, sizeof(want)), 16);
	conf_gmac(&c, key, 16, nonce); /* salt: the nonce's first 4 bytes */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	ck_assert_mem_eq(k.salt, nonce, 4);
	memset(buf, GUARD, sizeof(buf));
	memcpy(buf + 12, aad + v->aad_len, 8 + len); /* room for 12 bytes of AAD, the IV, the range */
	memcpy(copy, buf, sizeof(buf));
	for (int dir = 0; dir < 2; dir++) {
		op = (struct ofl_op){.sa = &k, .buf = buf, .cipher_off = 20,
				     .cipher_len = (uint32_t)len, .auth_len = (uint32_t)len,
				     .iv = nonce, .aad = aad, .aad_len = v->aad_len,
				     .encrypt = dir == 0, .tag = tag};
		memset(tag, GUARD, sizeof(tag));
		run1(&op);
		ck_assert_msg(memcmp(tag, want, 16) == 0, "%s, %s: tag", v->name,
			      dir == 0 ? "encrypt" : "decrypt");
		ck_assert(all_bytes(tag + 16, sizeof(tag) - 16, GUARD));
		ck_assert_msg(memcmp(buf, copy, sizeof(buf)) == 0, "%s, %s: the buffer changed",
			      v->name, dir == 0 ? "encrypt" : "decrypt");
	}
	flips[0] = aad + v->aad_len - 1; /* the sequence number's last byte */
	flips[1] = buf + 12 + rnd() % 8;
	flips[2] = len > 0 ? buf + 20 + rnd() % len : NULL;
	for (int f = 0; f < 3 && flips[f] != NULL; f++) {
		uint8_t was = *flips[f];

		*flips[f] ^= (uint8_t)(1u << (rnd() % 8));
		run1(&op);
		ck_assert_msg(!ofl_icv_equal(tag, want, 16), "%s: flip %d verified", v->name, f);
		*flips[f] = was;
	}
	/* the engine writes the AAD over the bytes before the IV: an op whose
	 * buffer starts closer to the IV than that is refused, untouched */
	op.cipher_off = 8u + v->aad_len - 1;
	op.buf = buf + 20 - op.cipher_off;
	ofl_cpu_run(eng, &op, 1);
	ck_assert_int_eq(op.status, -EINVAL);
	ck_assert(memcmp(buf, copy, sizeof(buf)) == 0);
}
END_TEST

/* ---- AES-CBC + HMAC: RFC 3602 ciphertexts, OpenSSL tags ------------------ */

struct cbc_vec {
	const char *key, *iv, *pt, *ct;
};

static const struct cbc_vec cbc_vecs[] = { /* RFC 3602 §4, cases 1-4 */
	{"06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
	 "53696e676c6520626c6f636b206d7367", /* "Single block msg" */
	 "e353779c1079aeb82708942dbe77181a"},
	{"c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
	 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	 "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"},
	{"6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
	 /* "This is a 48-byte message (exactly 3 AES blocks)" */
	 "5468697320697320612034382d62797465206d657373616765202865786163746c"
	 "7920332041455320626c6f636b7329",
	 "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5"
	 "021c19216bad525c8579695d83ba2684"},
	{"56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9",
	 "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	 "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
	 "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e"
	 "35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55"},
};
#define N_CBC_VECS ((int)(sizeof(cbc_vecs) / sizeof(cbc_vecs[0])))

/* The ESP layout: 8-byte header || 16-byte IV || ciphertext, the ICV over
 * all of it. _i: vector x {SHA-1-96, SHA-256-128}. */
START_TEST(test_cbc_vectors)
{
	const struct cbc_vec *v = &cbc_vecs[_i / 2];
	uint8_t integ = _i % 2 ? DPSEC_INTEG_HMAC_SHA256_128 : DPSEC_INTEG_HMAC_SHA1_96;
	uint8_t ikey_len = integ == DPSEC_INTEG_HMAC_SHA1_96 ? 20 : 32;
	uint8_t key[16], ikey[32], pt[64], ct[64], buf[24 + 64 + 16], tag[16], tag2[16], mac[64];
	struct ofl_sa_crypto k;
	struct dpsec_sa_conf c;
	size_t len;
	struct ofl_op op;

	ck_assert_uint_eq(unhex(v->key, key, sizeof(key)), 16);
	len = unhex(v->pt, pt, sizeof(pt));
	ck_assert_uint_eq(unhex(v->ct, ct, sizeof(ct)), len);
	rnd_fill(ikey, sizeof(ikey));
	conf_cbc(&c, key, 16, integ, ikey, ikey_len);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	ck_assert_uint_eq(k.iv_len, 16);
	ck_assert_uint_eq(k.block_len, 16);
	ck_assert_uint_eq(k.icv_len, integ == DPSEC_INTEG_HMAC_SHA1_96 ? 12 : 16);

	memset(buf, GUARD, sizeof(buf));
	rnd_fill(buf, 8); /* SPI, sequence number */
	ck_assert_uint_eq(unhex(v->iv, buf + 8, 16), 16);
	memcpy(buf + 24, pt, len);
	op = (struct ofl_op){.sa = &k, .buf = buf, .cipher_off = 24, .cipher_len = (uint32_t)len,
			     .auth_off = 0, .auth_len = (uint32_t)(24 + len), .iv = buf + 8,
			     .encrypt = true, .tag = tag};
	run1(&op);
	ck_assert_mem_eq(buf + 24, ct, len);
	ck_assert(all_bytes(buf + 24 + len, 16, GUARD));
	ref_hmac(&c, buf, 24 + len, mac);
	ck_assert_mem_eq(tag, mac, k.icv_len);

	op.encrypt = false; /* hash first, then decrypt: the same ICV */
	op.tag = tag2;
	run1(&op);
	ck_assert_mem_eq(buf + 24, pt, len);
	ck_assert(ofl_icv_equal(tag2, tag, k.icv_len));

	memcpy(buf + 24, ct, len);
	buf[24 + rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
	run1(&op);
	ck_assert(!ofl_icv_equal(tag2, tag, k.icv_len));
	buf[rnd() % 24] ^= 0x01; /* and a flipped header/IV bit on its own */
	memcpy(buf + 24, ct, len);
	run1(&op);
	ck_assert(!ofl_icv_equal(tag2, tag, k.icv_len));
}
END_TEST

/* ---- 3DES-CBC + HMAC: the NIST SP 800-67 Rev. 2 TDEA example ------------- */

/* SP 800-67's example (§3.3, Appendix B): three independent keys, the
 * plaintext "The qufck brown fox jump", encrypted block by block (ECB). With
 * a zero IV, CBC over P1, P2 ^ C1, P3 ^ C2 gives C1, C2, C3 again: the
 * standard's ciphertext checks the chaining too. */
#define TDEA_KEY "0123456789abcdef23456789abcdef01456789abcdef0123"
#define TDEA_PT "5468652071756663" "6b2062726f776e20" "666f78206a756d70"
#define TDEA_CT "a826fd8ce53b855f" "cce21c8112256fe6" "68d5c05dd9b6b900"

/* ESP layout: 8-byte header || 8-byte IV || ciphertext, the ICV over all
 * of it (OpenSSL's HMAC). _i: SHA-1-96, SHA-256-128. */
START_TEST(test_des3_vectors)
{
	uint8_t integ = _i ? DPSEC_INTEG_HMAC_SHA256_128 : DPSEC_INTEG_HMAC_SHA1_96;
	uint8_t ikey_len = integ == DPSEC_INTEG_HMAC_SHA1_96 ? 20 : 32;
	uint8_t key[24], ikey[32], pt[24], ct[24], buf[16 + 24 + 16], tag[16], tag2[16], mac[64];
	struct ofl_sa_crypto k;
	struct dpsec_sa_conf c;
	struct ofl_op op;

	ck_assert_uint_eq(unhex(TDEA_KEY, key, sizeof(key)), 24);
	ck_assert_uint_eq(unhex(TDEA_PT, pt, sizeof(pt)), 24);
	ck_assert_uint_eq(unhex(TDEA_CT, ct, sizeof(ct)), 24);
	for (int i = 8; i < 24; i++)
		pt[i] ^= ct[i - 8];
	rnd_fill(ikey, sizeof(ikey));
	conf_des3(&c, key, integ, ikey, ikey_len);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	ck_assert_uint_eq(k.iv_len, 8);
	ck_assert_uint_eq(k.block_len, 8);
	ck_assert_uint_eq(k.icv_len, integ == DPSEC_INTEG_HMAC_SHA1_96 ? 12 : 16);

	memset(buf, GUARD, sizeof(buf));
	rnd_fill(buf, 8); /* SPI, sequence number */
	memset(buf + 8, 0, 8);
	memcpy(buf + 16, pt, 24);
	op = (struct ofl_op){.sa = &k, .buf = buf, .cipher_off = 16, .cipher_len = 24,
			     .auth_off = 0, .auth_len = 16 + 24, .iv = buf + 8, .encrypt = true,
			     .tag = tag};
	run1(&op);
	ck_assert_mem_eq(buf + 16, ct, 24);
	ck_assert(all_bytes(buf + 16 + 24, 16, GUARD));
	ref_hmac(&c, buf, 16 + 24, mac);
	ck_assert_mem_eq(tag, mac, k.icv_len);

	op.encrypt = false;
	op.tag = tag2;
	run1(&op);
	ck_assert_mem_eq(buf + 16, pt, 24);
	ck_assert(ofl_icv_equal(tag2, tag, k.icv_len));

	memcpy(buf + 16, ct, 24); /* a flipped ciphertext bit */
	buf[16 + rnd() % 24] ^= (uint8_t)(1u << (rnd() % 8));
	run1(&op);
	ck_assert(!ofl_icv_equal(tag2, tag, k.icv_len));
}
END_TEST

/* ---- HMAC: RFC 2202 (SHA-1) and RFC 4231 (SHA-2) -------------------------- */

struct hmac_vec {
	uint8_t integ;
	const char *key, *data, *mac; /* mac: at least the truncated length */
};

static const struct hmac_vec hmac_vecs[] = {
	/* RFC 2202 §3, cases 1-5 (6 and 7 need keys longer than a block, which
	 * a dpsec_sa_conf cannot hold) */
	{DPSEC_INTEG_HMAC_SHA1_96, "0b*20", "4869205468657265",
	 "b617318655057264e28bc0b6fb378c8ef146be00"},
	{DPSEC_INTEG_HMAC_SHA1_96, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	 "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
	{DPSEC_INTEG_HMAC_SHA1_96, "aa*20", "dd*50", "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
	{DPSEC_INTEG_HMAC_SHA1_96, "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50",
	 "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
	{DPSEC_INTEG_HMAC_SHA1_96, "0c*20", "546573742057697468205472756e636174696f6e",
	 "4c1a03424b55e07fe7f27be1"}, /* the RFC's HMAC-SHA-1-96 */
	/* RFC 4231 §4.2-4.6, cases 1-5 */
	{DPSEC_INTEG_HMAC_SHA256_128, "0b*20", "4869205468657265",
	 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	{DPSEC_INTEG_HMAC_SHA256_128, "4a656665",
	 "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{DPSEC_INTEG_HMAC_SHA256_128, "aa*20", "dd*50",
	 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	{DPSEC_INTEG_HMAC_SHA256_128, "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50",
	 "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	{DPSEC_INTEG_HMAC_SHA256_128, "0c*20", "546573742057697468205472756e636174696f6e",
	 "a3b6167473100ee06e0c796c2955552b"}, /* the RFC's 128-bit truncation */
	/* RFC 4231 §4.2-4.5, cases 1-4 for HMAC-SHA-384 and -512 (case 5's
	 * 128-bit truncation is shorter than their ICVs) */
	{DPSEC_INTEG_HMAC_SHA384_192, "0b*20", "4869205468657265",
	 "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	 "faea9ea9076ede7f4af152e8b2fa9cb6"},
	{DPSEC_INTEG_HMAC_SHA384_192, "4a656665",
	 "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	 "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	 "8e2240ca5e69e2c78b3239ecfab21649"},
	{DPSEC_INTEG_HMAC_SHA384_192, "aa*20", "dd*50",
	 "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
	 "2a5ab39dc13814b94e3ab6e101a34f27"},
	{DPSEC_INTEG_HMAC_SHA384_192, "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50",
	 "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
	 "6801dd23c4a7d679ccf8a386c674cffb"},
	{DPSEC_INTEG_HMAC_SHA512_256, "0b*20", "4869205468657265",
	 "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	 "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
	{DPSEC_INTEG_HMAC_SHA512_256, "4a656665",
	 "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	 "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	 "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
	{DPSEC_INTEG_HMAC_SHA512_256, "aa*20", "dd*50",
	 "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	 "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
	{DPSEC_INTEG_HMAC_SHA512_256, "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50",
	 "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	 "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"},
};
#define N_HMAC_VECS ((int)(sizeof(hmac_vecs) / sizeof(hmac_vecs[0])))

/* The engine only chains: the data is the auth range, a block behind it
 * (outside that range) the cipher range. Both directions give the MAC. */
START_TEST(test_hmac_vectors)
{
	const struct hmac_vec *v = &hmac_vecs[_i];
	uint8_t key[16], ikey[64], mac[64], buf[5 + 64 + 16], iv[16], tag[DPSEC_MAX_ICV];
	size_t ikey_len = unhex(v->key, ikey, sizeof(ikey));
	struct ofl_sa_crypto k;
	struct dpsec_sa_conf c;
	struct ofl_op op;
	size_t len;

	rnd_fill(key, sizeof(key));
	rnd_fill(iv, sizeof(iv));
	conf_cbc(&c, key, 16, v->integ, ikey, (uint8_t)ikey_len);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	ck_assert_uint_ge(unhex(v->mac, mac, sizeof(mac)), k.icv_len);
	memset(buf, GUARD, sizeof(buf));
	len = unhex(v->data, buf + 5, 64);
	for (int dir = 0; dir < 2; dir++) {
		op = (struct ofl_op){.sa = &k, .buf = buf, .cipher_off = (uint32_t)(5 + len),
				     .cipher_len = 16, .auth_off = 5, .auth_len = (uint32_t)len,
				     .iv = iv, .encrypt = dir == 0, .tag = tag};
		memset(tag, 0, sizeof(tag));
		run1(&op);
		ck_assert_msg(memcmp(tag, mac, k.icv_len) == 0, "case %d, %s", _i,
			      dir == 0 ? "encrypt" : "decrypt");
	}
	ck_assert(all_bytes(buf, 5, GUARD));
}
END_TEST

/* ---- AES-XCBC-MAC-96 and AES-CMAC-96: RFC 3566 §4, RFC 4494 §4 ---------- */

/* Where an AES MAC runs: AH, or ESP with NULL, AES-128-CBC or 3DES. */
enum { USE_AH, USE_NULL, USE_CBC, USE_DES3, N_MAC_USES };

static void conf_mac_use(struct dpsec_sa_conf *c, int use, uint8_t integ, const uint8_t *ikey,
			 uint8_t ikey_len)
{
	uint8_t key[24];

	rnd_fill(key, sizeof(key));
	if (use == USE_AH)
		conf_ah(c, integ, ikey, ikey_len);
	else if (use == USE_NULL)
		conf_null(c, integ, ikey, ikey_len);
	else if (use == USE_CBC)
		conf_cbc(c, key, 16, integ, ikey, ikey_len);
	else
		conf_des3(c, key, integ, ikey, ikey_len);
}

/* Each RFC vector in each use (_i: vector x use): the message is the MAC's
 * range at an odd offset, ESP's cipher range beside it; both directions
 * give the RFC's 96-bit ICV, in 12 bytes of the tag and not one more. */
START_TEST(test_aes_mac_vectors)
{
	const struct aes_mac_vec *v = &aes_mac_vecs[_i / N_MAC_USES];
	int use = _i % N_MAC_USES;
	uint8_t ikey[16], mac[12], buf[5 + MAX_DATA + 16], iv[16], tag[DPSEC_MAX_ICV];
	struct ofl_sa_crypto k;
	struct dpsec_sa_conf c;
	struct ofl_op op;
	size_t len;

	ck_assert_uint_eq(unhex(v->key, ikey, sizeof(ikey)), 16);
	ck_assert_uint_eq(unhex(v->mac, mac, sizeof(mac)), 12);
	conf_mac_use(&c, use, v->integ, ikey, 16);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	ck_assert_uint_eq(k.icv_len, 12);
	ck_assert_uint_eq(k.auth_only, use == USE_AH);
	memset(buf, GUARD, sizeof(buf));
	len = unhex(v->msg, buf + 5, MAX_DATA);
	rnd_fill(iv, sizeof(iv));
	for (int dir = 0; dir < 2; dir++) {
		op = (struct ofl_op){.sa = &k, .buf = buf, .auth_off = 5, .auth_len = (uint32_t)len,
				     .iv = iv, .encrypt = dir == 0, .tag = tag};
		if (use != USE_AH) {
			op.cipher_off = (uint32_t)(5 + len);
			op.cipher_len = 16;
		}
		memset(tag, GUARD, sizeof(tag));
		run1(&op);
		ck_assert_msg(memcmp(tag, mac, 12) == 0, "%s, use %d, %s", v->name, use,
			      dir == 0 ? "encrypt" : "decrypt");
		ck_assert(all_bytes(tag + 12, sizeof(tag) - 12, GUARD));
	}
	ck_assert(all_bytes(buf, 5, GUARD));
}
END_TEST

/* XCBC and CMAC take AES-128's key and no other (RFC 3566 §2.1, RFC 4494
 * §2), in every use: 16 bytes prepare with a 12-byte ICV; 20 (a SHA-1
 * key by mistake, which a HMAC would take), 32, 15 or none are refused. */
START_TEST(test_prepare_aes_mac)
{
	static const uint8_t integs[] = { DPSEC_INTEG_AES_XCBC_96, DPSEC_INTEG_AES_CMAC_96 };
	static const uint8_t bad_lens[] = { 20, 32, 15, 0 };
	uint8_t ikey[16] = {2};
	struct ofl_sa_crypto k;
	struct dpsec_sa_conf c;

	for (size_t a = 0; a < sizeof(integs); a++)
		for (int use = 0; use < N_MAC_USES; use++) {
			conf_mac_use(&c, use, integs[a], ikey, 16);
			ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
			ck_assert_uint_eq(k.icv_len, 12);
			for (size_t b = 0; b < sizeof(bad_lens); b++) {
				c.integ_key_len = bad_lens[b];
				ck_assert_msg(ofl_cpu_sa_prepare(eng, &c, &k) == -EINVAL,
					      "integ %u, use %d: %u-byte key prepared", integs[a],
					      use, bad_lens[b]);
			}
		}
}
END_TEST

/* AES-GMAC takes AES's three key lengths and no integrity algorithm
 * (RFC 4543: it is one); its template is GCM's: an 8-byte IV in the
 * packet, a 16-byte ICV, the trailer on a 4-byte boundary, the salt kept
 * for the nonce. */
START_TEST(test_prepare_gmac)
{
	static const uint8_t bad_lens[] = { 0, 8, 20, 36 };
	uint8_t key[32] = {1}, ikey[20] = {2}, salt[4] = {3, 4, 5, 6};
	struct ofl_sa_crypto k;
	struct dpsec_sa_conf c;

	for (uint8_t len = 16; len <= 32; len += 8) {
		conf_gmac(&c, key, len, salt);
		memset(&k, 0x5a, sizeof(k));
		ck_assert_msg(ofl_cpu_sa_prepare(eng, &c, &k) == 0, "%u-byte key refused", len);
		ck_assert(k.iv_len == 8 && k.icv_len == 16 && k.block_len == 4);
		ck_assert_uint_eq(k.enc_alg, DPSEC_ENC_NULL_AUTH_AES_GMAC);
		ck_assert_uint_eq(k.key_len, len);
		ck_assert(!k.auth_only);
		ck_assert_mem_eq(k.salt, salt, 4);

		c.integ_alg = DPSEC_INTEG_HMAC_SHA1_96; /* an integrity algorithm beside it */
		c.integ_key_len = 20;
		memcpy(c.integ_key, ikey, 20);
		ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
		c.integ_alg = DPSEC_INTEG_AES_CMAC_96;
		c.integ_key_len = 16;
		ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	}
	for (size_t b = 0; b < sizeof(bad_lens); b++) {
		conf_gmac(&c, key, 32, salt);
		c.enc_key_len = bad_lens[b]; /* the length alone: the key array holds 32 */
		ck_assert_msg(ofl_cpu_sa_prepare(eng, &c, &k) == -EINVAL, "%u-byte key prepared",
			      bad_lens[b]);
	}
}
END_TEST

/* ---- the CSPRNG ------------------------------------------------------------ */

static unsigned popcount_buf(const uint8_t *p, size_t n)
{
	unsigned c = 0;

	for (size_t i = 0; i < n; i++)
		c += (unsigned)__builtin_popcount(p[i]);
	return c;
}

START_TEST(test_random)
{
	enum { BIG = 3 * 4096 + 100 }; /* more than one CTR job */
	static uint8_t a[BIG], b[BIG];
	struct ofl_cpu *other = ofl_cpu_create(0);
	unsigned ones;

	ck_assert_ptr_nonnull(other);
	ofl_cpu_random(eng, a, 64);
	ofl_cpu_random(eng, b, 64);
	ck_assert(!all_bytes(a, 64, 0) && !all_bytes(b, 64, 0));
	ck_assert_mem_ne(a, b, 64);

	/* odd lengths advance the counter too: no block comes out twice */
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	ofl_cpu_random(eng, a, 13);
	ofl_cpu_random(eng, b, 13);
	ck_assert_mem_ne(a, b, 13);

	ofl_cpu_random(eng, a, BIG);
	ofl_cpu_random(other, b, BIG);
	for (size_t i = 0; i + 16 <= BIG; i += 16) /* other key: other stream */
		EXPECT(memcmp(a + i, b + i, 16) != 0, "block %zu equal across engines", i / 16);
	for (size_t i = 16; i + 16 <= BIG; i += 16) /* blocks within one call differ */
		EXPECT(memcmp(a + i, a + i - 16, 16) != 0, "block %zu repeats", i / 16);
	ones = popcount_buf(a, BIG);
	ck_assert_uint_gt(ones, BIG * 8 / 2 - BIG * 8 / 100); /* within 1% of half */
	ck_assert_uint_lt(ones, BIG * 8 / 2 + BIG * 8 / 100);
	ofl_cpu_free(other);
}
END_TEST

/* ---- SA preparation: what the engine refuses ------------------------------ */

/* The ICV comparison: equal buffers match, and a change in any bit of any
 * byte does not, for the word-wise lengths (12, 16) and the others. */
START_TEST(test_icv_equal_every_byte)
{
	static const uint8_t lens[] = { 12, 16, 1, 8, 20, 32 };

	for (size_t l = 0; l < sizeof(lens); l++) {
		uint8_t a[33], b[33]; /* one byte past the longest length */

		for (int i = 0; i < 33; i++)
			a[i] = b[i] = (uint8_t)(i * 29 + 7);
		ck_assert(ofl_icv_equal(a, b, lens[l]));
		for (int i = 0; i < lens[l]; i++)
			for (int bit = 0; bit < 8; bit++) {
				b[i] ^= (uint8_t)(1u << bit);
				ck_assert_msg(!ofl_icv_equal(a, b, lens[l]), "len %u byte %d bit %d", lens[l], i, bit);
				b[i] ^= (uint8_t)(1u << bit);
			}
		b[lens[l]] ^= 1; /* beyond the length: not compared */
		ck_assert(ofl_icv_equal(a, b, lens[l]));
	}
}
END_TEST

START_TEST(test_prepare_invalid)
{
	uint8_t key[32] = {1}, ikey[64] = {2}, salt[4] = {3};
	struct ofl_sa_crypto k;
	struct dpsec_sa_conf c;

	conf_gcm(&c, key, 16, salt);
	c.integ_alg = DPSEC_INTEG_HMAC_SHA1_96; /* GCM with an integrity algorithm */
	c.integ_key_len = 20;
	memset(&k, 0x5a, sizeof(k));
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	ck_assert(all_bytes((const uint8_t *)&k, sizeof(k), 0)); /* nothing left behind */
	conf_gcm(&c, key, 20, salt); /* no AES key length */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_gcm(&c, key, 0, salt);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_gcm(&c, key, 32, salt);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);

	conf_cbc(&c, key, 16, DPSEC_INTEG_NONE, ikey, 0); /* CBC without integrity */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_cbc(&c, key, 20, DPSEC_INTEG_HMAC_SHA1_96, ikey, 20);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_cbc(&c, key, 16, DPSEC_INTEG_HMAC_SHA1_96, ikey, 0);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_cbc(&c, key, 16, DPSEC_INTEG_HMAC_SHA256_128, ikey, 64);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	c.integ_key_len = DPSEC_MAX_INTEG_KEY + 1; /* longer than a block */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_cbc(&c, key, 32, DPSEC_INTEG_N /* unknown */, ikey, 32);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_cbc(&c, key, 32, DPSEC_INTEG_HMAC_SHA256_128, ikey, 32);
	c.enc_alg = DPSEC_ENC_N; /* unknown */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);

	conf_chacha(&c, key, salt);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	c.enc_key_len = 16; /* ChaCha20 takes 32 bytes only */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_chacha(&c, key, salt);
	c.integ_alg = DPSEC_INTEG_HMAC_SHA256_128; /* a combined mode with an integrity algorithm */
	c.integ_key_len = 32;
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);

	conf_ccm(&c, DPSEC_ENC_AES_CCM_12, key, 32, salt);
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	ck_assert(k.icv_len == 12 && k.iv_len == 8 && k.block_len == 4);
	ck_assert(k.salt[0] == 0 && memcmp(k.salt + 1, salt, 3) == 0); /* the nonce: 0 || salt || IV */
	conf_ccm(&c, DPSEC_ENC_AES_CCM_8, key, 24, salt); /* IMB has no AES-192 CCM */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_ccm(&c, DPSEC_ENC_AES_CCM_16, key, 16, salt);
	c.integ_alg = DPSEC_INTEG_HMAC_SHA1_96; /* a combined mode with an integrity algorithm */
	c.integ_key_len = 20;
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);

	conf_des3(&c, key, DPSEC_INTEG_NONE, ikey, 0); /* 3DES without integrity */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_des3(&c, key, DPSEC_INTEG_HMAC_SHA1_96, ikey, 20);
	for (uint8_t len = 16; len <= 32; len += 16) { /* AES key lengths */
		c.enc_key_len = len;
		ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	}
	c.enc_key_len = 24;
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	ck_assert_ptr_eq(k.k.cbc.des_ks_ptr[2], k.k.cbc.des_ks[2]); /* the template points into itself */

	conf_null(&c, DPSEC_INTEG_NONE, ikey, 0); /* NULL without integrity: no protection */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	conf_null(&c, DPSEC_INTEG_HMAC_SHA256_128, ikey, 32);
	c.enc_key_len = 16; /* RFC 2410 has no key */
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), -EINVAL);
	c.enc_key_len = 0;
	ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &c, &k), 0);
	ck_assert_uint_eq(k.iv_len, 0); /* no IV in the packet */
	ck_assert_uint_eq(k.block_len, 4); /* the trailer on a 4-byte boundary, RFC 4303 §2.4 */
	ck_assert_uint_eq(k.icv_len, 16);
	ck_assert(!k.auth_only); /* ESP's HMAC range, not AH's */
}
END_TEST

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("crypto");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_gcm_vectors, 0, N_GCM_VECS);
	tcase_add_test(tc, test_chacha_vector);
	tcase_add_loop_test(tc, test_gmac_vectors, 0, N_GMAC_VECS);
	tcase_add_test(tc, test_prepare_gmac);
	tcase_add_loop_test(tc, test_cbc_vectors, 0, 2 * N_CBC_VECS);
	tcase_add_loop_test(tc, test_des3_vectors, 0, 2);
	tcase_add_loop_test(tc, test_hmac_vectors, 0, N_HMAC_VECS);
	tcase_add_loop_test(tc, test_aes_mac_vectors, 0, N_AES_MAC_VECS * N_MAC_USES);
	tcase_add_test(tc, test_prepare_aes_mac);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_prepare_invalid);
	tcase_add_test(tc, test_icv_equal_every_byte);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	crypto_seed("test_crypto");
	return check_run(crypto_suite());
}
