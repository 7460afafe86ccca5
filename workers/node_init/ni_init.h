/*
 * ni_init - the patches that initialize a Node and keep it in line with
 * its ECS instance (pure: node + instance in, JSON text out).
 *
 * ni_spec_patch builds a JSON merge patch of the Node object: the cloud
 * labels (topology.kubernetes.io/region|zone, node.kubernetes.io/
 * instance-type, their deprecated beta twins and node.alibabacloud.com/
 * instance-charge-type), spec.providerID, and spec.taints (written whole,
 * other taints unchanged) without the uninitialized taint and with or
 * without the shutdown taint. The patch carries metadata.resourceVersion,
 * so it applies only to the Node it was computed from (409 on a race:
 * re-read, rebuild).
 *
 * ni_status_patch builds a strategic merge patch of nodes/status: the
 * address list (replaced whole with the "$patch":"replace" directive, as
 * upstream does, because status.addresses is wrongly tagged merge; written
 * plainly when the Node has none yet) and,
 * when asked and not already False, NetworkUnavailable=True/NoRouteCreated.
 *
 * Both return 1 when the patch changes something, 0 when the Node already
 * matches (out is then empty) or a negative errno. ni_addresses returns
 * the whole wanted list in *out (free(); its strings are borrowed from n
 * and inst, valid while they are), -EINVAL when
 * alpha.kubernetes.io/provided-node-ip is not one of the cloud's addresses,
 * -E2BIG when the instance's IP lists could not be read whole; err then
 * says why.
 */
#ifndef CCM_NI_INIT_H
#define CCM_NI_INIT_H

#include <stddef.h>

#include "lib/buf.h"
#include "workers/node_init/ni_model.h"

enum ni_shutdown {
	NI_SHUTDOWN_KEEP = 0,
	NI_SHUTDOWN_ADD,
	NI_SHUTDOWN_REMOVE,
};

struct ni_want {
	const char *provider_id; /* written when the node has none; NULL */
	int remove_uninit;
	enum ni_shutdown shutdown;
	int labels; /* write the cloud labels from inst */
	int network_unavailable;
};

int ni_spec_patch(const struct ni_node *n, const struct ni_instance *inst,
		  const struct ni_want *w, struct buf *out);
int ni_addresses(const struct ni_node *n, const struct ni_instance *inst,
		 struct ni_addr **out, size_t *nout, char *err, size_t errlen);
/* 1 when a Node's addresses (have) already say what want says: the same
 * entries, in the same order among those of one type (the first
 * InternalIP is the node IP); the order across types is no change. */
int ni_addrs_same(const struct ni_addr *have, size_t nh,
		  const struct ni_addr *want, size_t nw);
/* now: RFC 3339 time for the condition's timestamps. */
int ni_status_patch(const struct ni_node *n, const struct ni_instance *inst,
		    const struct ni_want *w, const char *now, struct buf *out,
		    char *err, size_t errlen);
/* The labels the worker owns (NULL-terminated). */
extern const char *const ni_cloud_label_keys[];
/* The label the worker owns for key, from inst ("" when none). */
const char *ni_cloud_label(const struct ni_instance *inst, const char *key);

#endif
