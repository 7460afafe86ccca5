/*
 * rt_cidr - IPv4 CIDR parsing for the route worker.
 *
 * Route destinations and pod CIDRs are compared in canonical form
 * ("10.244.1.0/24": host bits cleared, no leading zeros), so that
 * "10.244.1.5/24" on a Node and "10.244.1.0/24" in a route table are the
 * same destination. Pure functions, no allocation.
 */
#ifndef CCM_RT_CIDR_H
#define CCM_RT_CIDR_H

#include <stddef.h>
#include <stdint.h>

#define RT_CIDR_MAX 20 /* "255.255.255.255/32" + NUL */

struct rt_cidr {
	uint32_t addr; /* host order, host bits cleared */
	int prefix;    /* 0..32 */
};

/* 0, or -EINVAL for anything but a dotted quad with a /0../32 suffix. */
int rt_cidr_parse(const char *s, struct rt_cidr *out);
/* Canonical text of a CIDR into out (RT_CIDR_MAX bytes). */
void rt_cidr_format(const struct rt_cidr *c, char *out, size_t n);
/* Canonical text of s, or -EINVAL (out is then ""). */
int rt_cidr_norm(const char *s, char *out, size_t n);
/* inner lies entirely inside outer (equal counts). */
int rt_cidr_within(const struct rt_cidr *inner, const struct rt_cidr *outer);

#endif
