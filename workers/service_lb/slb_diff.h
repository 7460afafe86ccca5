/*
 * slb_diff - desired state vs. the last-seen cloud state -> the minimal
 * ordered list of mutating calls.
 *
 * Order: create the CLB; fix attributes; create groups (first batch of
 * backends on the create) and add backends; re-weight; delete forwarding
 * HTTP listeners that must go (forward-port); delete/create/re-point/start
 * the other listeners, then the forwarding ones (their HTTPS targets
 * exist by then); domain extensions of HTTPS listeners; remove backends;
 * delete stale listeners (forwarders first) and groups; last the spec,
 * billing and tags (slb_attrs.h). Adding before removing keeps traffic
 * flowing.
 *
 * Ownership rules (never broken): backends whose description is not this
 * Service's in this cluster are never removed or re-weighted; groups and
 * listeners not named as ours are never deleted; a reused CLB is never
 * deleted and its listeners are touched only with force-override. A sync
 * that would empty a group holding our backends keeps them
 * (plan->keep_empty names the ports) so an API-server partition or a
 * mass NotReady cannot blackhole a Service.
 *
 * Ownership: the plan owns its calls and their backend batches
 * (slb_plan_done).
 */
#ifndef CCM_SLB_DIFF_H
#define CCM_SLB_DIFF_H

#include "workers/service_lb/slb_cloud.h"
#include "workers/service_lb/slb_model.h"

enum slb_op {
	SLB_OP_CREATE_LB = 0,
	SLB_OP_SET_DELETE_PROTECTION,
	SLB_OP_SET_NAME,
	SLB_OP_MODIFY_SPEC,
	SLB_OP_UNTAG,
	SLB_OP_CREATE_VG,
	SLB_OP_ADD_BE,
	SLB_OP_SET_BE,
	SLB_OP_DELETE_LISTENER,
	SLB_OP_CREATE_LISTENER,
	SLB_OP_SET_LISTENER,
	SLB_OP_START_LISTENER,
	SLB_OP_REMOVE_BE,
	SLB_OP_DELETE_VG,
	SLB_OP_DELETE_LB,
	SLB_OP_SET_MOD_PROTECTION,
	SLB_OP_CREATE_DOMEXT,
	SLB_OP_SET_DOMEXT,
	SLB_OP_DELETE_DOMEXT,
	SLB_OP_MODIFY_CHARGE_TYPE,   /* str: type, cert: spec */
	SLB_OP_MODIFY_INTERNET_SPEC, /* str: charge type, flag: bandwidth */
	SLB_OP_ADD_TAGS,	     /* additional tags, see slb_attrs.h */
	SLB_OP_REMOVE_TAGS,
};

const char *slb_op_name(enum slb_op op);

struct slb_call {
	enum slb_op op;
	int wport;		/* desired port index, -1 if none */
	char vg_id[SLB_ID_LEN]; /* existing group ("" = wport's new group) */
	int port;		/* listener */
	enum slb_proto proto;
	int flag;	   /* delete protection on/off */
	char str[128];	   /* name, spec, domain */
	char cert[128];	   /* domain extension certificate */
	struct slb_bes be; /* one batch */
};

struct slb_plan {
	struct slb_call *v;
	size_t n, cap;
	/* group id of each desired port; "" until CREATE_VG ran */
	char vg[SLB_MAX_PORTS][SLB_ID_LEN];
	int keep_empty[SLB_MAX_PORTS]; /* kept backends instead of emptying */
	int no_backends[SLB_MAX_PORTS];
	char warn[1024]; /* immutable attribute differences, not-owned CLB */
};

void slb_plan_done(struct slb_plan *p);
/* Appends a zeroed call; NULL when out of memory. */
struct slb_call *slb_plan_push(struct slb_plan *p, enum slb_op op, int wport);

/* -EINVAL with err when the state cannot be reached (reused CLB missing
 * or owned by a CCM, a vgroup-port group missing). */
int slb_diff(const struct slb_want *w, const struct slb_cloud *c, int batch,
	     struct slb_plan *p, char *err, size_t errlen);

/* Do the CLB's tags (as read) name this Service and this cluster? */
int slb_cloud_owned(const struct slb_want *w, const struct slb_cloud *c);

/* Cleanup of a Service that no longer wants a CLB; w carries the
 * ownership rules (built with no ports). A CLB not owned (matched by its
 * default name only) gets no call; p->warn then says why. */
int slb_diff_cleanup(const struct slb_want *w, const struct slb_cloud *c,
		     int batch, struct slb_plan *p);

#endif
