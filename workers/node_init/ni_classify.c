#include "workers/node_init/ni_classify.h"

#include <string.h>

static int selector_matches(const struct wk_node *n, const char *sel)
{
	char buf[256];
	char *save = NULL, *tok;

	/* "k=v" or a comma-separated conjunction "k=v,k2=v2". */
	if (!sel || !*sel || strlen(sel) >= sizeof(buf))
		return 0;
	memcpy(buf, sel, strlen(sel) + 1);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!wk_node_matches_selector(n, tok))
			return 0;
	return 1;
}

enum ni_kind ni_classify(const struct wk_node *n, const struct cfg_cloud *cc)
{
	char region[64], inst[64];

	if (selector_matches(n, cc->non_ecs_node_selector))
		return NI_KIND_NON_ECS;
	if (n->provider_id && n->provider_id[0])
		return wk_provider_id_parse(n->provider_id, region,
					    sizeof(region), inst,
					    sizeof(inst)) == 0
			       ? NI_KIND_ECS
			       : NI_KIND_NON_ECS;
	return NI_KIND_DISCOVER;
}

int ni_discovery_none_is_non_ecs(const struct cfg_cloud *cc)
{
	return cc->initialize_non_ecs_nodes != 0;
}

int ni_non_ecs_may_init(const struct cfg_cloud *cc)
{
	return cc->initialize_non_ecs_nodes != 0;
}

const char *ni_kind_name(enum ni_kind k)
{
	switch (k) {
	case NI_KIND_ECS:
		return "ecs";
	case NI_KIND_DISCOVER:
		return "discover";
	case NI_KIND_NON_ECS:
		return "non-ecs";
	}
	return "?";
}
