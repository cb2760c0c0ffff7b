/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Option values as text: see parse_i.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/parse_i.h"

/* strtoull() takes a sign and leading blanks; an option value has neither. */
static int digits_first(const char *s)
{
	return s && isdigit((unsigned char)s[0]);
}

int fb__parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!digits_first(s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int fb__parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	unsigned int shift = 0;
	const char *u;
	char *end;

	if (!digits_first(s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end && (u = strchr(units, toupper((unsigned char)*end)))) {
		shift = 10 * (unsigned int)(u - units + 1);
		end++;
		if (*end == 'i')
			end++;
	}
	if (*end == 'B' || (shift && *end == 'b'))
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int fb__parse_seconds(const char *s, double *out)
{
	char *end;
	double d;

	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	errno = 0;
	d = strtod(s, &end);
	if (errno || *end || !isfinite(d) || d < 0 || d > 1e9)
		return -EINVAL;
	*out = d;
	return 0;
}

int fb__parse_mode(const char *s, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!s || !(s[0] >= '0' && s[0] <= '7'))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 07777)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}
