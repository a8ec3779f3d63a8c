/* ike_vendor.h - recognising Vendor ID payloads (either IKE version) by
 * their bytes: NAT-T (RFC 3947 and its drafts), DPD (RFC 3706), XAUTH,
 * Windows, Cisco, strongSwan. Most are the MD5 of a defining string,
 * which the table keeps so that tests can recompute them. */
#ifndef IKE_VENDOR_H
#define IKE_VENDOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ike_vendor_id {
	IKE_VID_NATT_RFC3947,
	IKE_VID_NATT_DRAFT_00,
	IKE_VID_NATT_DRAFT_02,
	IKE_VID_NATT_DRAFT_02N,
	IKE_VID_NATT_DRAFT_03,
	IKE_VID_DPD,
	IKE_VID_XAUTH,
	IKE_VID_MS_NT5,
	IKE_VID_MS_NEGOTIATION_DISCOVERY,
	IKE_VID_MS_CGA,
	IKE_VID_MS_MAMIE,
	IKE_VID_MS_INITIAL_CONTACT,
	IKE_VID_FRAGMENTATION,
	IKE_VID_CISCO_UNITY,
	IKE_VID_STRONGSWAN,
	IKE_VID_COUNT
};

struct ike_vendor {
	enum ike_vendor_id id;
	const char *name;
	const char *source; /* its bytes are the start of MD5(source), or NULL */
	uint8_t len;	    /* bytes that identify it */
	bool prefix;	    /* more bytes may follow (versions, flags) */
	uint8_t bytes[16];
};

/* The entry whose bytes the payload data matches, or NULL. */
const struct ike_vendor *ike_vendor_lookup(const uint8_t *p, size_t len);
/* The whole table (for tests and for building our own VIDs). */
const struct ike_vendor *ike_vendor_table(size_t *n);

#endif
