/* cfg_names.h - an index of the names of an array of records that each
 * begin with their name (char[DPSEC_NAME_MAX]): the loader's duplicate and
 * reference checks and the store's lookups by name, in constant time
 * rather than a walk of the array (a store of thousands of tunnels names
 * each SA and filter list several times). The index holds record numbers,
 * not pointers, so the array may move (realloc); records added to it or
 * taken out of it must be added to the index, or the index rebuilt. */
#ifndef CFG_NAMES_H
#define CFG_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct cfg_names {
	uint32_t mask;  /* slots - 1; slot NULL: nothing indexed yet */
	uint32_t count; /* records indexed */
	int32_t *slot;  /* a record number, or -1 */
};

/* Record i of base (records of stride bytes) indexed. Returns -1 when it
 * was, the number of an indexed record of the same name (i then not
 * indexed), or -2 when out of memory. */
int cfg_names_add(struct cfg_names *x, const void *base, size_t stride, uint32_t i);

/* The number of the record named name, or -1. An index with nothing in it
 * walks the n records (a store put together without the loader). */
int cfg_names_find(const struct cfg_names *x, const void *base, size_t stride, uint32_t n,
		   const char *name);

/* x emptied, then the n records of base indexed (the first of a name).
 * Returns 0, or -1 when out of memory (x then empty). */
int cfg_names_build(struct cfg_names *x, const void *base, size_t stride, uint32_t n);

void cfg_names_free(struct cfg_names *x);

#endif
