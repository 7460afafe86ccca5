#include "workers/route/rt_mark.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

int rt_mark_name(const char *cluster_id, char out[RT_MARK_NAME_MAX])
{
	size_t n = sizeof(RT_MARK_PREFIX) - 1, i;

	out[0] = '\0';
	if (!cluster_id || !cluster_id[0])
		return -EINVAL;
	memcpy(out, RT_MARK_PREFIX, n);
	for (i = 0; cluster_id[i] && n < RT_MARK_NAME_MAX - 1; i++)
		out[n++] = name_char(cluster_id[i]) ? cluster_id[i] : '-';
	out[n] = '\0';
	return 0;
}

void rt_mark_desc(const char *cluster_id, const char *node,
		  char out[RT_MARK_DESC_MAX])
{
	snprintf(out, RT_MARK_DESC_MAX,
		 "alicloud-ccm: pod CIDR route of node %s in cluster %s",
		 node ? node : "", cluster_id ? cluster_id : "");
}

int rt_mark_is(const char *name, const char *mark)
{
	return name && mark && mark[0] && strcmp(name, mark) == 0;
}
