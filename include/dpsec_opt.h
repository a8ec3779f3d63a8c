/* dpsec_opt.h - one decimal command-line option value within a range, for
 * dpsecd, dpsec-ctld and the bench tools: no sign, no trailing text, no
 * overflow; a refusal names the program, the option and the range. */
#ifndef DPSEC_OPT_H
#define DPSEC_OPT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Sets *out to arg's value and returns 0, or prints why not and returns -1. */
static inline int dpsec_opt_u32(const char *prog, const char *opt, const char *arg, uint32_t min,
				uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "%s: %s: expected %u..%u, got \"%s\"\n", prog, opt, min, max, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

#endif
