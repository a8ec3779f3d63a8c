/* cp_mgmt.h - the management socket's framing, shared by dpsec-ctld and
 * dpsecctl. A request is a 32-bit length (network order) and that many
 * bytes: the arguments, each ended by a NUL. A reply is a 32-bit status and
 * a 32-bit length (network order), then the text. */
#ifndef CP_MGMT_H
#define CP_MGMT_H

#include <stddef.h>
#include <stdint.h>

#define CP_MGMT_MAX_REQUEST 65536
#define CP_MGMT_MAX_ARGS 64
#define CP_MGMT_MAX_REPLY (64u << 20)

/* Splits a request body into argv. Returns argc, or -1 with a sentence in
 * err: empty, not NUL-terminated, too many arguments, an empty argument. */
int cp_mgmt_decode(char *body, size_t len, char **argv, const char **err);

#endif
