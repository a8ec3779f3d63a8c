/* cfg_store.h - the policy store of dpsec-ctld as loaded from a libconfig
 * file: several named policies (exactly one assigned), each a list of rules
 * joining a filter list, a filter action (permit, block, or negotiate with an
 * ordered list of security methods) and authentication methods; the built-in
 * policies of the Windows model; exemptions; negotiation timeouts; static SAs.
 * And the compiler that turns the assigned policy into the rules the
 * dataplane takes (exemptions first, stable rule ids, mirrored filters kept
 * as a flag for the dataplane to expand). Plain data; no DPDK. */
#ifndef DPSEC_CFG_STORE_H
#define DPSEC_CFG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "cfg_names.h"
#include "dpsec_model.h"

#define CFG_DESC_MAX 128
#define CFG_MAX_METHODS 8   /* security methods of one filter action */
#define CFG_MAX_AUTH 4      /* authentication methods of one rule */
#define CFG_MAX_ROOTS 8     /* trusted root CAs of one certificate method */
#define CFG_MAX_CERTS 4     /* our own certificates of one certificate method */
#define CFG_MAX_CRLS 8      /* CRL files of one certificate method */
#define CFG_PATH_MAX 256
#define CFG_PSK_MAX 128

enum cfg_ipsec_proto { CFG_PROTO_ESP, CFG_PROTO_AH };

/* One security method of a negotiate filter action (a Quick Mode offer). */
struct cfg_sec_method {
	char name[DPSEC_NAME_MAX];  /* e.g. "High", "Medium", or the admin's */
	uint8_t protocol;           /* enum cfg_ipsec_proto */
	uint8_t enc_alg;            /* enum dpsec_enc_alg (ESP only) */
	uint8_t enc_key_len;        /* bytes, without the GCM salt */
	uint8_t integ_alg;          /* enum dpsec_integ_alg */
	uint32_t lifetime_seconds;  /* Quick Mode; default 3600 */
	uint64_t lifetime_kilobytes;/* default 100000 */
};

struct cfg_filter_action {
	char name[DPSEC_NAME_MAX];
	bool builtin;
	char description[CFG_DESC_MAX];
	uint8_t action;             /* enum dpsec_action */
	bool accept_unsecured;      /* "accept unsecured communication, but always respond using IPsec" */
	bool fallback_to_clear;     /* "allow unsecured communication with non-IPsec-aware computers" */
	bool pfs;                   /* Quick Mode perfect forward secrecy */
	uint8_t df_bit;             /* enum dpsec_df_bit of its IPv4 tunnels' outbound SAs */
	bool dscp_fixed;            /* its tunnels' outbound SAs set the outer DSCP to dscp */
	uint8_t dscp;
	uint32_t n_methods;
	struct cfg_sec_method methods[CFG_MAX_METHODS]; /* in order of preference */
};

struct cfg_filter_list {
	char name[DPSEC_NAME_MAX];
	bool builtin;
	char description[CFG_DESC_MAX];
	uint32_t n_filters;
	struct dpsec_filter *filters;
};

enum cfg_auth_kind { CFG_AUTH_PSK, CFG_AUTH_CERT };

/* Which identity of our certificate we claim (IKEv2 ID types). */
enum cfg_cert_id { CFG_CERT_ID_DN = 9, CFG_CERT_ID_FQDN = 2, CFG_CERT_ID_EMAIL = 3,
		   CFG_CERT_ID_IP = 1 };

struct cfg_auth_method {
	uint8_t kind;               /* enum cfg_auth_kind */
	uint32_t psk_len;
	uint8_t psk[CFG_PSK_MAX];   /* secret: never printed; wiped by cfg_store_free() */
	/* certificates */
	uint32_t n_roots;
	char roots[CFG_MAX_ROOTS][CFG_PATH_MAX]; /* trusted root CA files, in order */
	uint32_t n_certs;           /* ours, in order; 0: we only check the peer's */
	char certs[CFG_MAX_CERTS][CFG_PATH_MAX]; /* PEM: the certificate, then its intermediates */
	char keys[CFG_MAX_CERTS][CFG_PATH_MAX];  /* each one's private key file (the key process reads it) */
	uint32_t n_crls;
	char crls[CFG_MAX_CRLS][CFG_PATH_MAX];   /* CRL files (PEM or DER) */
	uint8_t revocation;         /* 0 off, 1 fail only when revoked, 2 fail on any CRL error; default 0 */
	bool rsa_pss;               /* RSA signatures with PSS (RFC 7427), else PKCS#1 v1.5; default false */
	uint8_t identity;           /* enum cfg_cert_id; default DN */
};

struct cfg_store_rule {
	char name[DPSEC_NAME_MAX];
	char description[CFG_DESC_MAX];
	bool enabled;
	char filter_list[DPSEC_NAME_MAX];
	char filter_action[DPSEC_NAME_MAX];
	uint32_t priority;          /* lower first; ties by file order */
	bool tunnel;
	struct dpsec_addr tunnel_endpoint;
	uint32_t n_auth;
	struct cfg_auth_method *auth; /* n_auth of them, in order of preference; the
				       * store's own allocation (wiped and freed with it) */
	char outbound_sa[DPSEC_NAME_MAX];          /* static SAs ("" = none: negotiate) */
	char inbound_sa[DPSEC_NAME_MAX];
};

/* Main Mode security methods a policy names (its key exchange settings);
 * with legacy_suites IKEv1 adds five, within dpsec-ctld's twelve. */
#define CFG_MAX_MM_METHODS 7

/* One Main Mode (IKE SA) security method, as IKEv2 transform IDs (RFC
 * 7296 §3.3.2; IKEv1 maps its attributes onto them): cipher and key bits,
 * integrity (0 with a combined mode, and always with IKEv1, which
 * authenticates with the PRF's HMAC), PRF, Diffie-Hellman group. */
struct cfg_mm_method {
	uint16_t encr, encr_bits, integ, prf, dh_group;
};

struct cfg_main_mode {
	uint32_t lifetime_minutes;  /* default 480; 5 .. 2880 */
	uint32_t max_quick_modes;   /* Quick Modes per Main Mode; 0 = unlimited */
	uint8_t ike_version;        /* what the policy's negotiate rules speak: 1 or 2 (default) */
	bool legacy_suites;         /* IKEv1 only: also MD5 and MODP-1024 (group 2) in Main Mode */
	uint8_t n_methods;          /* 0: dpsec-ctld's own suites for the IKE version */
	struct cfg_mm_method methods[CFG_MAX_MM_METHODS]; /* in order of preference */
};

/* The configuration names of a Main Mode method's parts ("aes256gcm16",
 * "sha256_128", "sha256", "ecp256"); "none" for no integrity, "?" for a
 * value no name has. */
const char *cfg_mm_encryption_name(const struct cfg_mm_method *m);
const char *cfg_mm_integrity_name(const struct cfg_mm_method *m);
const char *cfg_mm_prf_name(const struct cfg_mm_method *m);
const char *cfg_mm_dh_name(const struct cfg_mm_method *m);

struct cfg_policy {
	char name[DPSEC_NAME_MAX];
	char description[CFG_DESC_MAX];
	bool builtin;               /* Client, Server, Secure Server */
	bool default_response;      /* the default response rule: answer IKE requests no rule asks for */
	uint8_t default_action;     /* for packets no filter matches; default permit */
	struct cfg_main_mode main_mode;
	uint32_t n_rules;
	struct cfg_store_rule *rules; /* in file order */
};

struct cfg_exemptions {         /* IKE (UDP 500/4500) is always exempt */
	bool broadcast, multicast, rsvp, kerberos; /* default false */
};

struct cfg_timeouts {
	uint32_t fallback_ms;       /* no answer to negotiation: fall back to clear; default 3000 */
	uint32_t block_seconds;     /* a failed negotiation blocks the traffic; default 60 */
	uint32_t idle_seconds;      /* Quick Mode SA idle; default 300 */
};

/* A static SA with its lifetimes (0: none). */
struct cfg_static_sa {
	struct dpsec_sa_conf conf;
	uint32_t lifetime_seconds;
	uint64_t lifetime_kilobytes;
};

struct cfg_store {
	char path[CFG_PATH_MAX];
	char assigned[DPSEC_NAME_MAX];  /* "" = no policy assigned */
	struct cfg_exemptions exemptions;
	struct cfg_timeouts timeouts;
	uint32_t n_filter_lists;
	struct cfg_filter_list *filter_lists;
	uint32_t n_filter_actions;
	struct cfg_filter_action *filter_actions;
	uint32_t n_policies;
	struct cfg_policy *policies;     /* the built-in ones included */
	uint32_t n_sas;
	struct cfg_static_sa *sas;
	/* the lookups by name below: cfg_store_index() */
	struct cfg_names policy_names, list_names, action_names, sa_names;
};

/* The built-in policies, filter lists and filter actions, in the store's
 * own syntax; loaded before every store. */
extern const char cfg_builtin_text[];

/* Loads and validates a store: names resolve, exactly zero or one policy
 * assigned, Main Mode lifetime in range, mirrored filters on every negotiate
 * rule, static SAs consistent with their rules. Errors as in cfg_load():
 * "FILE:LINE: FIELD: problem". out needs cfg_store_free() either way. */
int cfg_store_load(const char *path, enum cfg_perm_policy perm, struct cfg_store *out,
		   char err[CFG_ERR_MAX]);

/* The same from a string (dpsecctl's static changes are validated this way
 * before they are written). name stands in for the file in messages. */
int cfg_store_load_string(const char *text, const char *name, struct cfg_store *out,
			  char err[CFG_ERR_MAX]);

/* Writes the store in the loader's syntax to path (mode 0600, through a
 * temporary file and rename). Returns 0 or -1 with err. */
int cfg_store_save(const struct cfg_store *s, const char *path, char err[CFG_ERR_MAX]);

void cfg_store_free(struct cfg_store *s);

/* Indexes the names of the store's policies, filter lists, filter actions
 * and SAs for the lookups below; again after a change that adds or takes
 * out any of them (the loader does it). Returns 0, or -1 when out of
 * memory (the lookups then walk the arrays). */
int cfg_store_index(struct cfg_store *s);

/* Wipes and frees what a rule holds of its own (its authentication
 * methods), for a rule taken out of a store. */
void cfg_store_rule_free(struct cfg_store_rule *r);

const struct cfg_policy *cfg_store_policy(const struct cfg_store *s, const char *name);
const struct cfg_filter_list *cfg_store_filter_list(const struct cfg_store *s, const char *name);
const struct cfg_filter_action *cfg_store_filter_action(const struct cfg_store *s,
							const char *name);
const struct cfg_static_sa *cfg_store_sa(const struct cfg_store *s, const char *name);

/* The dataplane's view of one policy. rules[i].id is stable: the same
 * policy and rule names give the same id in every compile and every
 * process. sa_out / sa_in are indexes into the store's SA array (-1: none).
 * Exemption rules come first, flagged DPSEC_RULE_EXEMPT; disabled rules and
 * the default response rule (IKE only) make no dataplane rule. A store rule of
 * priority p compiles to priority 2p + 1: the even values are left to the
 * control plane's specific rules (one peer of a rule: a soft association, a
 * 60 s block, a negotiated SA), which must precede their generic rule. */
struct cfg_compiled {
	uint8_t default_action;
	uint32_t n_rules;
	struct dpsec_rule *rules;
	const struct cfg_store_rule **origin; /* per rule: the store rule, NULL for exemptions */
};

int cfg_compile(const struct cfg_store *s, const char *policy, struct cfg_compiled *out,
		char err[CFG_ERR_MAX]);
void cfg_compiled_free(struct cfg_compiled *c);

#endif
