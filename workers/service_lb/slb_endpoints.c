#include "workers/service_lb/slb_endpoints.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* The API server keeps an IPv6 address as written ("2408:0:0::1"); the
 * cloud reports it canonical (RFC 5952), so backends compare equal only
 * in that form. Anything inet_pton refuses is left as it is. */
static void canon_ipv6(char *ip, size_t n)
{
	struct in6_addr a;
	char out[INET6_ADDRSTRLEN];

	if (!strchr(ip, ':') || inet_pton(AF_INET6, ip, &a) != 1 ||
	    !inet_ntop(AF_INET6, &a, out, sizeof(out)))
		return;
	slb_strcpy(ip, n, out);
}

static int add_addr(struct slb_eps *out, const char *ip, const char *node,
		    const struct json *port, int ready)
{
	struct slb_ep e;
	long long v = 0;

	if (!ip)
		return 0;
	memset(&e, 0, sizeof(e));
	if (slb_strcpy(e.ip, sizeof(e.ip), ip) < 0)
		return 0;
	canon_ipv6(e.ip, sizeof(e.ip));
	slb_strcpy(e.node, sizeof(e.node), node);
	slb_strcpy(e.port_name, sizeof(e.port_name),
		   json_path_str(port, "name"));
	if (json_int(json_get(port, "port"), &v) == 0)
		e.port = (int)v;
	e.ready = ready;
	return slb_eps_push(out, &e);
}

static int subset_list(const struct json *addrs, const struct json *ports,
		       int ready, struct slb_eps *out)
{
	size_t i, j;
	int r = 0;

	for (i = 0; r == 0 && i < json_len(addrs); i++) {
		const struct json *a = json_at(addrs, i);

		for (j = 0; r == 0 && j < json_len(ports); j++)
			r = add_addr(out, json_path_str(a, "ip"),
				     json_path_str(a, "nodeName"),
				     json_at(ports, j), ready);
	}
	return r;
}

int slb_eps_from_endpoints(const struct json *obj, struct slb_eps *out)
{
	const struct json *subsets = json_get(obj, "subsets");
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < json_len(subsets); i++) {
		const struct json *s = json_at(subsets, i);
		const struct json *ports = json_get(s, "ports");

		r = subset_list(json_get(s, "addresses"), ports, 1, out);
		if (r == 0)
			r = subset_list(json_get(s, "notReadyAddresses"), ports,
					0, out);
	}
	return r;
}

int slb_eps_from_slice(const struct json *obj, struct slb_eps *out)
{
	const struct json *eps = json_get(obj, "endpoints");
	const struct json *ports = json_get(obj, "ports");
	const char *at = json_path_str(obj, "addressType");
	size_t i, j, k;
	int r = 0;

	if (at && strcmp(at, "FQDN") == 0)
		return 0;
	for (i = 0; r == 0 && i < json_len(eps); i++) {
		const struct json *e = json_at(eps, i);
		const struct json *addrs = json_get(e, "addresses");
		int ready = 1;

		if (json_bool(json_path(e, "conditions.ready"), &ready) < 0)
			ready = 1;
		for (k = 0; r == 0 && k < json_len(addrs); k++)
			for (j = 0; r == 0 && j < json_len(ports); j++)
				r = add_addr(out, json_str(json_at(addrs, k)),
					     json_path_str(e, "nodeName"),
					     json_at(ports, j), ready);
	}
	return r;
}
