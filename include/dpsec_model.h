/* dpsec_model.h - the policy and SA model shared by the config loader, the
 * dataplane and (later) the control plane: addresses, filters, rules with
 * their filter action, and static SA parameters. Plain data, no DPDK types. */
#ifndef DPSEC_MODEL_H
#define DPSEC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define DPSEC_NAME_MAX 64          /* names of ports, rules, filter lists, policies */
#define DPSEC_MAX_ENC_KEY 32       /* AES-256 */
#define DPSEC_GCM_SALT_LEN 4       /* RFC 4106 §8.1; RFC 7634 §4 the same; the longest salt */
#define DPSEC_MAX_INTEG_KEY 64     /* HMAC-SHA-512-256's key, RFC 4868 */
#define DPSEC_MAX_ICV 32           /* HMAC-SHA-512-256's ICV */
#define DPSEC_REPLAY_DEFAULT 1024  /* packets */
#define DPSEC_REPLAY_MAX 8192      /* packets: a 2 KiB bitmap at most */

enum dpsec_family { DPSEC_AF_NONE = 0, DPSEC_AF_INET = 4, DPSEC_AF_INET6 = 6 };

/* An IPv4 address lives in a[0..3], network byte order, rest zero. */
struct dpsec_addr {
	uint8_t family; /* enum dpsec_family */
	uint8_t a[16];
};

struct dpsec_prefix {
	struct dpsec_addr addr;
	uint8_t len; /* bits */
};

enum dpsec_action { DPSEC_ACTION_PERMIT, DPSEC_ACTION_BLOCK, DPSEC_ACTION_NEGOTIATE };

enum dpsec_rule_flags {
	DPSEC_RULE_EXEMPT = 1 << 0,           /* precedes every other rule */
	DPSEC_RULE_ACCEPT_UNSECURED = 1 << 1, /* negotiate, but clear inbound packets pass */
};

#define DPSEC_SA_NONE UINT32_MAX

enum dpsec_direction { DPSEC_DIR_IN, DPSEC_DIR_OUT };

enum dpsec_mode { DPSEC_MODE_TUNNEL, DPSEC_MODE_TRANSPORT };

enum dpsec_enc_alg {
	DPSEC_ENC_AES_GCM_16, /* RFC 4106, 16-byte ICV; key length 16, 24 or 32 */
	DPSEC_ENC_AES_CBC,    /* RFC 3602; key length 16, 24 or 32 */
	DPSEC_ENC_3DES_CBC,   /* RFC 2451; key length 24 (K1 || K2 || K3) */
	DPSEC_ENC_CHACHA20_POLY1305, /* RFC 7634, 16-byte ICV; key length 32 */
	DPSEC_ENC_NULL,       /* RFC 2410: no confidentiality, no key; ESP with integrity only */
	DPSEC_ENC_AES_CCM_8,  /* RFC 4309, 8-byte ICV; key length 16 or 32 (intel-ipsec-mb has
			       * no AES-192 CCM) */
	DPSEC_ENC_AES_CCM_12, /* RFC 4309, 12-byte ICV */
	DPSEC_ENC_AES_CCM_16, /* RFC 4309, 16-byte ICV */
	DPSEC_ENC_NULL_AUTH_AES_GMAC, /* RFC 4543: AES-GMAC, integrity without confidentiality,
				       * 16-byte ICV; key length 16, 24 or 32 */
	DPSEC_ENC_N           /* how many: every value from here on is unknown */
};

static inline bool dpsec_enc_is_ccm(uint8_t alg)
{
	return alg == DPSEC_ENC_AES_CCM_8 || alg == DPSEC_ENC_AES_CCM_12 ||
	       alg == DPSEC_ENC_AES_CCM_16;
}

/* A combined-mode cipher: its own ICV, a salt after the key (the nonce's
 * first part), no integrity algorithm beside it. AES-GMAC is one by its
 * form (RFC 4543 §3: GCM's nonce and ICV, nothing encrypted). */
static inline bool dpsec_enc_is_aead(uint8_t alg)
{
	return alg == DPSEC_ENC_AES_GCM_16 || alg == DPSEC_ENC_CHACHA20_POLY1305 ||
	       dpsec_enc_is_ccm(alg) || alg == DPSEC_ENC_NULL_AUTH_AES_GMAC;
}

/* Whether the algorithm hides the payload: all but NULL (RFC 2410) and
 * AES-GMAC (RFC 4543), which only authenticate it. */
static inline bool dpsec_enc_is_confidential(uint8_t alg)
{
	return alg != DPSEC_ENC_NULL && alg != DPSEC_ENC_NULL_AUTH_AES_GMAC;
}

/* The salt of a combined-mode cipher's key material: 4 bytes (RFC 4106
 * §8.1, RFC 7634 §4), 3 for AES-CCM (RFC 4309 §7.1); 0 for the others. */
static inline uint8_t dpsec_enc_salt_len(uint8_t alg)
{
	return dpsec_enc_is_ccm(alg) ? 3 : dpsec_enc_is_aead(alg) ? DPSEC_GCM_SALT_LEN : 0;
}

/* RFC 3948: ESP carried in UDP, to cross NATs (negotiated by IKE, RFC 3947
 * and RFC 7296 §2.23). */
enum dpsec_encap {
	DPSEC_ENCAP_NONE, /* ESP straight over IP (protocol 50) */
	DPSEC_ENCAP_UDP,  /* ESP in UDP, RFC 3948 */
};

#define DPSEC_NATT_PORT 4500 /* IKE's NAT-T port, the default of both UDP ports */

/* The security protocol of an SA: ESP (RFC 4303) or AH (RFC 4302, which
 * authenticates the packet, its IP header's immutable fields included,
 * and encrypts nothing: no encryption algorithm, no UDP encapsulation). */
enum dpsec_protocol { DPSEC_PROTO_ESP, DPSEC_PROTO_AH };

/* The DF bit of a tunnel's outer IPv4 header (RFC 4301 §8.1: configurable
 * per SA): copied from an inner IPv4 header (0 for inner IPv6), always
 * set, or always clear. */
enum dpsec_df_bit { DPSEC_DF_COPY, DPSEC_DF_SET, DPSEC_DF_CLEAR };

enum dpsec_integ_alg {
	DPSEC_INTEG_NONE,            /* only with a combined-mode cipher */
	DPSEC_INTEG_HMAC_SHA1_96,    /* RFC 2404 */
	DPSEC_INTEG_HMAC_SHA256_128, /* RFC 4868 */
	DPSEC_INTEG_HMAC_SHA384_192, /* RFC 4868 */
	DPSEC_INTEG_HMAC_SHA512_256, /* RFC 4868 */
	DPSEC_INTEG_AES_XCBC_96,     /* RFC 3566 */
	DPSEC_INTEG_AES_CMAC_96,     /* RFC 4494 */
	DPSEC_INTEG_N                /* not an algorithm: the count */
};

/* Whether alg is a MAC built on AES-128 (XCBC or CMAC) rather than a
 * HMAC. */
static inline bool dpsec_integ_is_aes_mac(uint8_t alg)
{
	return alg == DPSEC_INTEG_AES_XCBC_96 || alg == DPSEC_INTEG_AES_CMAC_96;
}

/* The key length of an integrity algorithm: the HMAC's hash output (RFC
 * 2404 §3, RFC 4868 §2.1.1), AES-128's key for XCBC and CMAC (RFC 3566
 * §2.1, RFC 4494 §2); 0 for none or an unknown one. */
static inline uint8_t dpsec_integ_key_len(uint8_t alg)
{
	switch (alg) {
	case DPSEC_INTEG_HMAC_SHA1_96: return 20;
	case DPSEC_INTEG_HMAC_SHA256_128: return 32;
	case DPSEC_INTEG_HMAC_SHA384_192: return 48;
	case DPSEC_INTEG_HMAC_SHA512_256: return 64;
	case DPSEC_INTEG_AES_XCBC_96:
	case DPSEC_INTEG_AES_CMAC_96: return 16;
	default: return 0;
	}
}

/* Its ICV: the HMAC truncated to half the hash (RFC 4868 §2.1.1), 96 bits
 * for HMAC-SHA1 (RFC 2404 §3), XCBC (RFC 3566 §2.3) and CMAC (RFC 4494
 * §2.2); 0 for none or an unknown one. */
static inline uint8_t dpsec_integ_icv_len(uint8_t alg)
{
	switch (alg) {
	case DPSEC_INTEG_HMAC_SHA1_96:
	case DPSEC_INTEG_AES_XCBC_96:
	case DPSEC_INTEG_AES_CMAC_96: return 12;
	default: return dpsec_integ_key_len(alg) / 2;
	}
}

/* One filter of a filter list. Ports apply to TCP, UDP and SCTP only;
 * a range 0-65535 means any port. proto 0 means any protocol. */
struct dpsec_filter {
	struct dpsec_prefix src, dst;
	uint8_t proto;
	bool mirrored;
	uint16_t sport_lo, sport_hi;
	uint16_t dport_lo, dport_hi;
};

/* Parameters of one static (or, later, negotiated) SA. For outbound SAs the
 * packet goes local -> remote; inbound SAs are found by (spi, ESP, local).
 * In tunnel mode local/remote are the tunnel endpoints; in transport mode
 * they are the two hosts. With UDP encapsulation the two ports are those of
 * the UDP header of the SA's packets, in host byte order: outbound, source
 * is the local port and destination the peer's; inbound, source is the
 * peer's port (what its NAT shows) and destination the local one. Both are 0
 * without encapsulation. */
struct dpsec_sa_conf {
	char name[DPSEC_NAME_MAX];
	uint32_t spi;
	uint8_t direction; /* enum dpsec_direction */
	uint8_t mode;      /* enum dpsec_mode */
	bool esn;          /* 64-bit extended sequence numbers, RFC 4303 §2.2.1 */
	uint32_t replay_window; /* packets; 0 disables anti-replay (inbound) */
	struct dpsec_addr local, remote;
	uint8_t enc_alg;       /* enum dpsec_enc_alg */
	uint8_t enc_key_len;   /* 16, 24 or 32 (AES, without the salt), 24 (3DES), 0 (NULL) */
	uint8_t enc_key[DPSEC_MAX_ENC_KEY];
	uint8_t salt[DPSEC_GCM_SALT_LEN]; /* combined modes only: the keymat's last 4 bytes
					   * (3 for AES-CCM, the rest 0) */
	uint8_t integ_alg;     /* enum dpsec_integ_alg */
	uint8_t integ_key_len; /* 20, 32, 48, 64: SHA1, SHA-256, -384, -512 (dpsec_integ_key_len) */
	uint8_t integ_key[DPSEC_MAX_INTEG_KEY];
	uint8_t encap;         /* enum dpsec_encap */
	uint8_t protocol;      /* enum dpsec_protocol: 0, ESP, unless AH is asked for */
	uint16_t udp_sport;    /* host order; 1..65535 with DPSEC_ENCAP_UDP, else 0 */
	uint16_t udp_dport;
	uint8_t df_bit;        /* enum dpsec_df_bit; not copy only for IPv4 tunnels */
	bool dscp_fixed;       /* tunnel mode: the outer DSCP is dscp, not the inner one's */
	uint8_t dscp;          /* 0..63, with dscp_fixed */
	bool negotiated;       /* keys IKE made for this SA alone: its outbound sequence
				* numbers need not outlive it (dataplane/seq_store.h) */
};

/* A rule joins one filter list and one filter action. Negotiate rules carry
 * their SA bundle as indexes into the SA array of the same configuration
 * (-1: none yet). A rule with a tunnel endpoint is a tunnel rule. Rules are
 * ordered: exemptions, then tunnel rules, then lower priority, then lower
 * id. */
struct dpsec_rule {
	char name[DPSEC_NAME_MAX];
	uint32_t id;       /* stable identity; dpsecd's own config numbers its rules 1.. */
	uint8_t flags;     /* enum dpsec_rule_flags */
	char filter_list[DPSEC_NAME_MAX];
	char filter_action[DPSEC_NAME_MAX];
	uint32_t priority; /* lower is preferred; ties keep file order */
	uint8_t action;    /* enum dpsec_action */
	bool tunnel;
	struct dpsec_addr tunnel_endpoint;
	uint32_t n_filters;
	struct dpsec_filter *filters;
	int32_t sa_out; /* index into the SA array, or -1 */
	int32_t sa_in;  /* index into the SA array, or -1 */
};

#endif
