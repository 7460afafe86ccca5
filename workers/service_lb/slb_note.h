/*
 * slb_note - keeps the last-seen cloud state current after a successful
 * mutating call, so the next diff needs no describe.
 *
 * new_id is the id a CreateVServerGroup returned (NULL otherwise); for
 * CreateLoadBalancer the caller fills lb_id/address itself. Pure.
 */
#ifndef CCM_SLB_NOTE_H
#define CCM_SLB_NOTE_H

#include "workers/service_lb/slb_diff.h"

int slb_note(struct slb_cloud *c, const struct slb_want *w, struct slb_plan *p,
	     const struct slb_call *call, const char *new_id);
/* The group a call targets: its vg_id, else its port's group. */
const char *slb_call_vg(const struct slb_plan *p, const struct slb_call *call);

#endif
