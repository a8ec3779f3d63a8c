/* cfg_names.c - the name index of cfg_names.h: open addressing with
 * linear probing over a power-of-two table kept at most half full, keyed
 * by an FNV-1a hash of the name. */
#include <stdlib.h>
#include <string.h>

#include "cfg_names.h"
#include "cfg_priv.h"

#define MIN_SLOTS 16u

static const char *name_of(const void *base, size_t stride, uint32_t i)
{
	return (const char *)base + (size_t)i * stride;
}

static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < DPSEC_NAME_MAX && name[i] != '\0'; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return h;
}

static bool same_name(const char *a, const char *b)
{
	return strncmp(a, b, DPSEC_NAME_MAX) == 0;
}

/* The slot holding name, or the free slot where it would go. */
static uint32_t probe(const struct cfg_names *x, const void *base, size_t stride, const char *name)
{
	uint32_t s = name_hash(name) & x->mask;

	while (x->slot[s] >= 0 && !same_name(name_of(base, stride, (uint32_t)x->slot[s]), name))
		s = (s + 1) & x->mask;
	return s;
}

/* A table of slots for x's records, each placed again. */
static int resize(struct cfg_names *x, const void *base, size_t stride, uint32_t slots)
{
	struct cfg_names bigger = { .mask = slots - 1, .count = x->count };

	bigger.slot = malloc(slots * sizeof(*bigger.slot));
	if (bigger.slot == NULL)
		return -1;
	memset(bigger.slot, 0xff, slots * sizeof(*bigger.slot));
	for (uint32_t s = 0; x->slot != NULL && s <= x->mask; s++)
		if (x->slot[s] >= 0)
			bigger.slot[probe(&bigger, base, stride, name_of(base, stride,
									 (uint32_t)x->slot[s]))] = x->slot[s];
	free(x->slot);
	*x = bigger;
	return 0;
}

int cfg_names_add(struct cfg_names *x, const void *base, size_t stride, uint32_t i)
{
	uint32_t s;

	if ((x->slot == NULL || 2 * (x->count + 1) > x->mask + 1) &&
	    resize(x, base, stride, x->slot == NULL ? MIN_SLOTS : 2 * (x->mask + 1)) < 0)
		return -2;
	s = probe(x, base, stride, name_of(base, stride, i));
	if (x->slot[s] >= 0)
		return x->slot[s];
	x->slot[s] = (int32_t)i;
	x->count++;
	return -1;
}

int cfg_names_find(const struct cfg_names *x, const void *base, size_t stride, uint32_t n,
		   const char *name)
{
	int32_t i;

	if (x->slot == NULL)
		return cfg_find_name(base, stride, n, name);
	i = x->slot[probe(x, base, stride, name)];
	return i >= 0 && (uint32_t)i < n ? i : -1;
}

int cfg_names_build(struct cfg_names *x, const void *base, size_t stride, uint32_t n)
{
	cfg_names_free(x);
	for (uint32_t i = 0; i < n; i++)
		if (cfg_names_add(x, base, stride, i) == -2) {
			cfg_names_free(x);
			return -1;
		}
	return 0;
}

void cfg_names_free(struct cfg_names *x)
{
	free(x->slot);
	*x = (struct cfg_names){ 0 };
}
