/*
 * slb_attrs - CLB attributes a later annotation change acts on as the Go
 * CCM does: billing and additional tags in place, the rest immutable.
 *
 * In place, each only when its annotation is set and differs from the
 * CLB as described: loadbalancer-instance-charge-type
 * (ModifyLoadBalancerInstanceChargeType, with the spec for PayBySpec),
 * else loadbalancer-spec (ModifyLoadBalancerInstanceSpec, not under
 * PayByCLCU); loadbalancer-charge-type and, under paybybandwidth,
 * loadbalancer-bandwidth (ModifyLoadBalancerInternetSpec, internet CLBs
 * only); loadbalancer-additional-resource-tags (AddTags for missing or
 * changed keys, RemoveTags for keys the annotation no longer lists).
 *
 * Tags are removed only if this process set them (w->tag_keys): the CLB
 * does not say who set a tag, and a key somebody added in the console
 * must survive. After a restart the set starts from the annotation, so a
 * key dropped while the controller was down stays on the CLB. Ownership
 * tags (kubernetes.do.not.delete, ack.aliyun.com,
 * kubernetes.reused.by.user) and cloud ones (acs:, aliyun) are never
 * touched; an absent or empty annotation changes no tag (Go CCM).
 *
 * Immutable (zones, address type, IP version, resource group, address,
 * vSwitch, network type): a set annotation that differs from the CLB goes
 * into plan->warn with the key and both values and is not applied. The
 * rest of the sync goes on (the Go CCM fails it instead): backends keep
 * following the nodes, and the CLB keeps serving as it is.
 *
 * Pure except slb_attrs_apply; no ownership.
 */
#ifndef CCM_SLB_ATTRS_H
#define CCM_SLB_ATTRS_H

#include "alicloud/ali_slb.h"
#include "workers/service_lb/slb_apply.h"

/* Fills the compared attributes and tags of c from a description. */
int slb_attrs_from_lb(const struct ali_lb *lb, struct slb_cloud *c);
/* What a create sent (the cloud's choices stay unknown). */
int slb_attrs_from_create(const struct ali_lb_create *o,
			  const struct ali_lb *out, struct slb_cloud *c);
/* An annotation is set whose CLB value is not known yet (the create's
 * answer leaves out the zones the cloud picked, for one): describe. */
int slb_attrs_need_read(const struct slb_annot *a, const struct slb_cloud *c);

/* The immutable differences into p->warn. */
void slb_attrs_plan_immutable(const struct slb_want *w,
			      const struct slb_cloud *c, struct slb_plan *p);
/* Appends the in-place calls; the planner puts them last, so a change
 * the cloud refuses (balance, quota) never holds up the backends. */
int slb_attrs_plan(const struct slb_want *w, const struct slb_cloud *c,
		   struct slb_plan *p);

/* Additional tags to add (or re-value) and to remove; out arrays of
 * SLB_MAX_TAGS. */
void slb_attrs_tags_delta(const struct slb_want *w, const struct slb_cloud *c,
			  struct ali_tag *add, size_t *n_add,
			  struct ali_tag *rm, size_t *n_rm);

/* After a successful sync: the keys set from now on (NULL keeps). */
int slb_attrs_remember_tags(const struct slb_annot *a, char **keys);

int slb_attrs_apply(struct slb_apply *a, const struct slb_call *call,
		    struct ali_error *err);
/* Records a successful call of this module in c. */
int slb_attrs_note(struct slb_cloud *c, const struct slb_want *w,
		   const struct slb_call *call);

#endif
