/* cp_ike_auth.h - dpsec-ctld's IKE authentication from the policy store
 * (cp_ike_auth.c): the key process, forked at startup before any IKE
 * socket is opened and holding the private keys of the store's
 * certificate methods, the certificate methods built from the store, and
 * a rule's authentication for its IKE policy. */
#ifndef CP_IKE_AUTH_H
#define CP_IKE_AUTH_H

#include <stdbool.h>

#include "cp.h"
#include "ikev2.h"

/* Starts the key process for every certificate of the store's
 * certificate methods and builds those methods; a method that cannot be
 * built (a certificate expired, without its key, chaining to none of the
 * rule's roots...) is logged with its rule and left out. Call before
 * cp_ike_open(). -1 and err only when nothing can be allocated. */
int cp_ike_auth_open(struct cp_ctx *c, char *err, size_t errlen);
/* dpsec-ctld --check: builds every certificate method of the store
 * without a key process (roots, CRL level, our certificates valid and
 * chaining to a root) and checks that each private key file is readable,
 * without reading it. 0, or -1 with err naming the file and the problem. */
int cp_ike_auth_check(const struct cfg_store *s, char *err, size_t errlen);
/* Stops the key process, frees the methods. */
void cp_ike_auth_close(struct cp_ctx *c);

/* Does rule o have a method IKE can use (a PSK, or a certificate method
 * built at startup)? A rule whose certificate methods were not built is
 * logged. */
bool cp_ike_auth_usable(const struct cp_ctx *c, const struct cfg_store_rule *o);

/* The rule's first usable method into p: local_auth, remote_auth and the
 * identities. A PSK: the two addresses as identities (the peer's must
 * match). Certificates: ours from our certificate (the store's `identity`
 * type), the peer's any identity its certificate holds. -ENOENT with err
 * when the rule has none. */
int cp_ike_auth_for_rule(const struct cp_ctx *c, const struct cfg_store_rule *o,
			 const struct dpsec_addr *local, const struct dpsec_addr *peer,
			 struct ikev2_peer *p, struct ike_err *err);

#endif
