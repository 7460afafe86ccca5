#include "workers/node_init/ni_discover.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int looks_like_instance_id(const char *s)
{
	size_t i, len = s ? strlen(s) : 0;

	if (len < 4 || len >= 64 || strncmp(s, "i-", 2) != 0)
		return 0;
	for (i = 2; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

const char *ni_discover_id_hint(const struct ni_node *n)
{
	if (looks_like_instance_id(n->wk->name))
		return n->wk->name;
	if (looks_like_instance_id(n->hostname_label))
		return n->hostname_label;
	return NULL;
}

static int candidate(const struct ni_node *n, const struct ni_instance *i,
		     const char *vpc_id, const char *ip, const char *hint)
{
	if (vpc_id && *vpc_id && strcmp(i->vpc_id, vpc_id) != 0)
		return 0;
	if (hint && strcmp(i->id, hint) == 0)
		return 1;
	(void)n;
	return ip && *ip && ni_instance_has_private_ip(i, ip);
}

static int seen_before(const struct ni_instance *pool, size_t upto,
		       const char *id)
{
	size_t k;

	for (k = 0; k < upto; k++)
		if (strcmp(pool[k].id, id) == 0)
			return 1;
	return 0;
}

enum ni_disc ni_discover_match(const struct ni_node *n,
			       const struct ni_instance *pool, size_t npool,
			       const char *vpc_id,
			       const struct ni_instance **out, char *cands,
			       size_t candlen)
{
	const char *ip = ni_node_ip(n), *hint = ni_discover_id_hint(n);
	size_t i, found = 0, used = 0;

	*out = NULL;
	if (candlen)
		cands[0] = '\0';
	for (i = 0; i < npool; i++) {
		/* The pool may hold one instance twice (by IP and by id). */
		if (!candidate(n, &pool[i], vpc_id, ip, hint) ||
		    seen_before(pool, i, pool[i].id))
			continue;
		if (!found)
			*out = &pool[i];
		found++;
		if (used < candlen) {
			int w = snprintf(cands + used, candlen - used, "%s%s",
					 found > 1 ? "," : "", pool[i].id);
			used += w > 0 ? (size_t)w : 0;
		}
	}
	if (found == 1)
		return NI_DISC_FOUND;
	*out = NULL;
	return found ? NI_DISC_AMBIGUOUS : NI_DISC_NONE;
}

int ni_provider_id(const char *region, const char *instance, char *out,
		   size_t n)
{
	int w = snprintf(out, n, "%s.%s", region, instance);

	return w < 0 || (size_t)w >= n || !*region || !*instance ? -EINVAL : 0;
}
