/* ike_msg.h - entry points that take a datagram of either IKE version. */
#ifndef IKE_MSG_H
#define IKE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "ikev2_msg.h"
#include "isakmp_msg.h"

/* The major version in the header's version byte (offset 17), or 0. */
int ike_msg_version(const uint8_t *buf, size_t len);
/* Parses the datagram by its version and describes it, or says why it
 * does not parse. Returns the length the full text needs (like snprintf). */
size_t ike_msg_describe(const uint8_t *buf, size_t len, char *out, size_t cap);

#endif
