/* ike_sa.h - the Security Association payload body shared by IKEv2 (RFC 7296
 * §3.3) and ISAKMP (RFC 2408 §3.4-3.6): proposals holding transforms holding
 * data attributes (TV "basic" form with the AF bit, or TLV).
 *
 * The two versions lay proposals and transforms out the same way; they
 * differ in the SA header (ISAKMP adds DOI and situation), in the transform
 * header (IKEv2: type + 16-bit ID; ISAKMP: number + 8-bit ID) and in the
 * proposal numbering rules. One parsed SA is flat: proposals, transforms and
 * attributes live in three arrays bounded by the IKE_MAX_* constants, and a
 * proposal names its transforms, a transform its attributes, by index. */
#ifndef IKE_SA_H
#define IKE_SA_H

#include <stdbool.h>
#include <stdint.h>

#include "ike_buf.h"

#define IKE_MAX_PROPOSALS 16   /* per SA payload */
#define IKE_MAX_TRANSFORMS 64  /* per SA payload, all proposals together */
#define IKE_MAX_ATTRS 128      /* per SA payload, all transforms together */
#define IKE_MAX_SPI 16         /* ISAKMP may carry both cookies as an SPI */

enum ike_version { IKE_V1 = 1, IKE_V2 = 2 };

/* Protocol IDs: the same numbers in both versions (IKEv2 calls 1 "IKE"). */
enum ike_proto { IKE_PROTO_IKE = 1, IKE_PROTO_AH = 2, IKE_PROTO_ESP = 3, IKE_PROTO_IPCOMP = 4 };

#define IKE_ATTR_AF 0x8000 /* attribute format bit: set = TV (basic) */

struct ike_attr {
	uint16_t type;  /* without the AF bit */
	bool tv;        /* basic form: value in tv_value */
	uint16_t tv_value;
	struct ike_blob data; /* TLV form: the value bytes */
};

struct ike_transform {
	uint8_t type;   /* IKEv2: transform type; ISAKMP: transform number */
	uint16_t id;    /* IKEv2: 16-bit transform ID; ISAKMP: 8-bit transform ID */
	uint16_t attr0; /* first attribute in ike_sa.attr[] */
	uint16_t n_attrs;
};

struct ike_proposal {
	uint8_t num;
	uint8_t protocol; /* enum ike_proto */
	uint8_t spi_len;
	uint8_t spi[IKE_MAX_SPI];
	uint16_t tr0; /* first transform in ike_sa.tr[] */
	uint16_t n_tr;
};

struct ike_sa {
	uint32_t doi;       /* ISAKMP only: 1 = IPsec DOI */
	uint32_t situation; /* ISAKMP only: 1 = SIT_IDENTITY_ONLY */
	uint16_t n_prop, n_tr, n_attr;
	struct ike_proposal prop[IKE_MAX_PROPOSALS];
	struct ike_transform tr[IKE_MAX_TRANSFORMS];
	struct ike_attr attr[IKE_MAX_ATTRS];
};

#define ISAKMP_DOI_IPSEC 1
#define ISAKMP_SIT_IDENTITY_ONLY 1

/* Parses an SA payload body (what follows the generic payload header).
 * Returns 0, -EBADMSG (lengths, counts, numbering), -E2BIG (more than the
 * IKE_MAX_* bounds), -EOPNOTSUPP (ISAKMP DOI or situation not supported). */
int ike_sa_parse(enum ike_version v, const uint8_t *buf, size_t len, struct ike_sa *out,
		 struct ike_err *err);
/* Writes the SA payload body. */
void ike_sa_build(enum ike_version v, const struct ike_sa *sa, struct ike_wr *w);

/* Building an SA by hand: each adds to the last proposal / transform.
 * They return 0 or -E2BIG (bound reached) / -EINVAL (nothing to add to, SPI
 * too long, TV attribute value in TLV form...). */
int ike_sa_add_proposal(struct ike_sa *sa, uint8_t num, uint8_t protocol, const uint8_t *spi,
			uint8_t spi_len);
int ike_sa_add_transform(struct ike_sa *sa, uint8_t type, uint16_t id);
int ike_sa_add_attr_tv(struct ike_sa *sa, uint16_t type, uint16_t value);
int ike_sa_add_attr_tlv(struct ike_sa *sa, uint16_t type, const uint8_t *p, uint16_t len);
/* Adds transform t of from, with its attributes, to the last proposal of
 * sa (an answer repeating the chosen transform as offered). TLV values
 * still point into from's message. */
int ike_sa_add_transform_copy(struct ike_sa *sa, const struct ike_sa *from,
			      const struct ike_transform *t);

/* The integer value of an attribute: TV, or TLV of 1 to 8 bytes
 * (ISAKMP life durations may be either). -ERANGE otherwise. */
int ike_attr_value(const struct ike_attr *a, uint64_t *out);
/* The attribute of that type in a transform, or NULL. */
const struct ike_attr *ike_tr_attr(const struct ike_sa *sa, const struct ike_transform *t,
				   uint16_t type);

/* Parses / writes a run of data attributes filling exactly len bytes
 * (also used by ISAKMP notifies such as RESPONDER-LIFETIME). */
int ike_attrs_parse(struct ike_rd *r, struct ike_attr *out, uint16_t max, uint16_t *n);
void ike_attrs_build(const struct ike_attr *a, uint16_t n, struct ike_wr *w);

#endif
