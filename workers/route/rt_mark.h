/*
 * rt_mark - the marker that makes a route entry this cluster's.
 *
 * Every entry the worker creates carries RouteEntryName
 * "k8s-route.<clusterID>" (characters the cloud refuses in a name, anything
 * but letters, digits, '.', '_' and '-', become '-'; at most 128
 * characters) and Description "alicloud-ccm: pod CIDR route of node <node>
 * in cluster <clusterID>" (for people; at most 256 characters). Only the
 * name decides ownership: it survives restarts, so the routes of nodes
 * deleted while the CCM was down are still collected, and it is what keeps
 * the worker away from routes it never made.
 */
#ifndef CCM_RT_MARK_H
#define CCM_RT_MARK_H

#include <stddef.h>

#define RT_MARK_PREFIX	 "k8s-route."
#define RT_MARK_NAME_MAX 129 /* 128 characters and the NUL */
#define RT_MARK_DESC_MAX 257

/* The RouteEntryName of this cluster's entries; 0, or -EINVAL when the
 * cluster id is empty. */
int rt_mark_name(const char *cluster_id, char out[RT_MARK_NAME_MAX]);
void rt_mark_desc(const char *cluster_id, const char *node,
		  char out[RT_MARK_DESC_MAX]);
/* 1 when name is exactly mark (the marker of this cluster). */
int rt_mark_is(const char *name, const char *mark);

#endif
