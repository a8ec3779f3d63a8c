/* seq_store.h - outbound sequence numbers of static keys, reserved on disk
 * before they are used. A static (manually keyed) SA comes back with the
 * same key after a restart of dpsecd or a reinstall; starting its counter
 * at 1 again would send sequence numbers the peer's replay window refuses
 * and, with AES-GCM, whose IV is the sequence number, repeat nonces under
 * one key (RFC 4106 §3.1 forbids it: it gives the authentication key
 * away). So each static key's numbers are granted in chunks, and a chunk's
 * end is written to the file and synced before a packet may use a number
 * of it; a new SA with that key starts after the last end written. The
 * file holds one line per key, "fingerprint end", the fingerprint a
 * truncated SHA-256 of the key; it is compacted when opened. */
#ifndef DP_SEQ_STORE_H
#define DP_SEQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_SEQ_FP_LEN 16
#define DP_SEQ_CHUNK (1ull << 26) /* numbers granted at a time: ~7 s at 10 Mpps */

struct dp_seq_store;

/* Reads the file at path if it exists (made, mode 0600, at the first
 * grant). Returns 0, or -errno with a sentence naming the file (and the
 * line) in err. path NULL (sequence_file "none"): a store of the keys'
 * claims only, which keeps no numbers (dp_seq_store_keeps_numbers). */
int dp_seq_store_open(struct dp_seq_store **out, const char *path, char *err, size_t errlen);
void dp_seq_store_close(struct dp_seq_store *s);

/* The last end written for the key with fingerprint fp; 0: none. */
uint64_t dp_seq_store_end(const struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN]);

/* Records end for fp and syncs the file: numbers up to end may be used
 * once this returns 0; -errno with a sentence in err otherwise. An end
 * below the one recorded is kept as the recorded one. */
int dp_seq_store_save(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN], uint64_t end, char *err,
		      size_t errlen);

/* The same in two steps, so that many records cost one sync: note writes
 * (the numbers may not be used yet), sync makes every noted one usable. */
int dp_seq_store_note(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN], uint64_t end, char *err,
		      size_t errlen);
int dp_seq_store_sync(struct dp_seq_store *s, char *err, size_t errlen);

/* A key taken by an installed SA: one outbound SA at a time (two would
 * share its numbers), and an AES-GCM key not both ways (each side counts
 * from the same place: every nonce twice). outbound: the SA's direction;
 * inbound ones are claimed for AES-GCM keys only. 0, -EEXIST (another
 * outbound SA has it), -ENOTUNIQ (an SA of the other direction has it) or
 * -ENOMEM. */
int dp_seq_store_claim(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN], bool outbound);
void dp_seq_store_release(struct dp_seq_store *s, const uint8_t fp[DP_SEQ_FP_LEN], bool outbound);

const char *dp_seq_store_path(const struct dp_seq_store *s);

/* False for a store opened without a file: its keys' SAs count from 1
 * over their whole space, and nothing may be noted or saved in it. */
bool dp_seq_store_keeps_numbers(const struct dp_seq_store *s);

#endif
