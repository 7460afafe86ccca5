#include "workers/route/rt_cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t prefix_mask(int prefix)
{
	return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static int parse_prefix(const char *s, int *out)
{
	char *end = NULL;
	long v;

	if (*s < '0' || *s > '9' || strlen(s) > 2)
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 32)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int rt_cidr_parse(const char *s, struct rt_cidr *out)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char ip[INET_ADDRSTRLEN];
	struct in_addr a;
	int prefix;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	/* inet_pton rejects octal/short forms that inet_aton would accept */
	if (inet_pton(AF_INET, ip, &a) != 1 || parse_prefix(slash + 1, &prefix))
		return -EINVAL;
	out->prefix = prefix;
	out->addr = ntohl(a.s_addr) & prefix_mask(prefix);
	return 0;
}

void rt_cidr_format(const struct rt_cidr *c, char *out, size_t n)
{
	snprintf(out, n, "%u.%u.%u.%u/%d", (c->addr >> 24) & 0xff,
		 (c->addr >> 16) & 0xff, (c->addr >> 8) & 0xff, c->addr & 0xff,
		 c->prefix);
}

int rt_cidr_norm(const char *s, char *out, size_t n)
{
	struct rt_cidr c;

	if (n)
		out[0] = '\0';
	if (rt_cidr_parse(s, &c))
		return -EINVAL;
	rt_cidr_format(&c, out, n);
	return 0;
}

int rt_cidr_within(const struct rt_cidr *inner, const struct rt_cidr *outer)
{
	return inner->prefix >= outer->prefix &&
	       (inner->addr & prefix_mask(outer->prefix)) == outer->addr;
}
