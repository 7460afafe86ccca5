/*
 * slb_ctl - internal state of the service-LB worker, shared by its files.
 *
 *   slb_main.c    wk_controller entry, informers (Services, Nodes,
 *                 Endpoints or v1 EndpointSlices) and what they enqueue
 *   slb_queue.c   per-Service entries: coalescing queue, 5 s -> 300 s
 *                 backoff, the jittered cloud resync of each CLB
 *   slb_sync.c    one Service: ensure or clean up its CLB
 *   slb_status.c  finalizer and status.loadBalancer patches
 *   slb_events.c  Events on the Service
 *   slb_eni.c     pod IP -> ENI id (DescribeNetworkInterfaces)
 *   slb_attach.c  Cluster-policy subsets across all Services
 *
 * Every Service the worker has touched has a struct slb_entry holding the
 * CLB state it last saw (struct slb_cloud); a sync diffs against it and
 * describes the CLB again only when it is stale (first sync, resync
 * period, any failed call). Up to --concurrent-service-syncs syncs run at
 * once, each in a fiber (workers/wk_fiber.h) whose cloud calls yield to
 * the loop while they wait; a Service is never synced twice at once, and
 * Services naming the same existing CLB (loadbalancer-id) are synced one
 * after the other, so their changes to that CLB never interleave. Shared
 * state changes only while a sync waits: what a sync reads from the
 * informers stays valid until it ends (objects are retired, lib/retire).
 * Before each call a sync calls wk_heartbeat, so a slow cloud stretching
 * it past the supervisor's heartbeat deadline (10 s) neither gets the
 * worker killed nor leaves its fence window unread.
 *
 * Ownership: struct slb_ctl is owned by the controller (init/done) and
 * owns its entries.
 */
#ifndef CCM_SLB_CTL_H
#define CCM_SLB_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "alicloud/ali_error.h"
#include "lib/backoff.h"
#include "workers/service_lb/slb_cloud.h"
#include "workers/service_lb/slb_model.h"

struct ali_client;
struct cfg;
struct event;
struct kube_client;
struct kube_informer;
struct kube_recorder;
struct retire;
struct wk_fibers;
struct wk_rt;

#define SLB_BACKOFF_BASE_MS 5000
#define SLB_BACKOFF_CAP_MS  300000
#define SLB_COALESCE_MS	    500 /* endpoint bursts per Service */
#define SLB_FENCED_RETRY_MS 1000

enum slb_ep_source { SLB_SRC_ENDPOINTS = 0, SLB_SRC_SLICES };

struct slb_entry {
	char ns[64];
	char name[SLB_NAME_LEN];
	struct slb_cloud cloud;
	int stale;    /* describe before the next diff */
	int resync;   /* this sync was started by the resync timer */
	int failures; /* consecutive failed syncs */
	struct backoff bo;
	int64_t due_ms;	       /* 0: not queued */
	int64_t hold_ms;       /* backoff: node/endpoint hints wait until */
	int64_t resync_ms;     /* 0: no CLB to resync */
	char token_salt[48];   /* keeps one ClientToken per CLB incarnation */
	int unavailable;       /* last sync found a port without backends */
	char warn_rv[32];      /* Service version the input warnings were for */
	char *tag_keys;	       /* additional tags we set (slb_attrs.h) */
	int sub_short;	       /* got fewer subset members than its size */
	int sub_noted[2];      /* subset size and full size last announced */
	int busy;	       /* a sync of it is running */
	int dropped;	       /* dropped while busy: freed when it ends */
	char lock[SLB_ID_LEN]; /* the existing CLB its running sync holds */
	/* instances its running sync chose as subset members: counted as
	 * attached by other syncs until it ends and its CLB shows them */
	char **reserved;
	size_t n_reserved;
};

/* An EndpointSlice as the informer keeps it. */
struct slb_slice {
	char svc[SLB_NAME_LEN];
	struct slb_eps eps;
};

struct slb_ctl {
	struct wk_rt *rt;
	const struct cfg *cfg;
	struct kube_client *kube;
	struct kube_recorder *rec;
	struct ali_client *ali;
	struct kube_informer *svcs, *nodes, *eps;
	enum slb_ep_source src;
	struct event *ev_queue;
	int64_t armed_ms; /* when ev_queue fires, 0: not armed */
	struct slb_entry **ents;
	size_t n_ents, cap_ents;
	struct wk_fibers *fibers; /* the running syncs */
	struct retire *retire;	  /* informer objects syncs may still read */
	int synced;		  /* all informers listed */
	int stopping;		  /* the controller is being freed */
	int reported; /* wk_reconciled sent since the queue drained */
	int sub_size; /* the subset size of the last subsetted sync */
	unsigned seed;
};

/* slb_queue.c */
struct slb_entry *slb_entry_get(struct slb_ctl *c, const char *ns,
				const char *name, int create);
void slb_entry_drop(struct slb_ctl *c, struct slb_entry *e);
/* Queue ns/name to sync in delay_ms; hint: respects the failure hold. */
void slb_enqueue(struct slb_ctl *c, const char *ns, const char *name,
		 int64_t delay_ms, int hint);
void slb_queue_kick(struct slb_ctl *c);
void slb_queue_on_timer(struct slb_ctl *c);
void slb_entry_ok(struct slb_ctl *c, struct slb_entry *e);
void slb_entry_failed(struct slb_ctl *c, struct slb_entry *e, int64_t retry_ms);
/* Pure: the next resync after now, period +-10 %. */
int64_t slb_resync_at(int64_t now, int64_t period, unsigned *seed);

/* slb_eip.c: the EIPs bound to CLB lb_id, comma-separated ("" none). */
int slb_eip_ips(struct slb_ctl *c, const char *lb_id, char *out, size_t n,
		struct ali_error *err);

/* slb_sync.c: 0 done, < 0 failed (entry already rescheduled). */
int slb_sync(struct slb_ctl *c, struct slb_entry *e);

/* slb_status.c */
/* uid and rv: "" or NULL leave that precondition out. */
int slb_finalizer_body(int add, const char *uid, const char *rv, char *out,
		       size_t n);
/* ip: one address or several, comma-separated. */
int slb_status_body(const char *ip, const char *host, char *out, size_t n);
/* Preconditions: s->uid always; rv (the version judged) on removal.
 * -EAGAIN: the Service changed or was replaced since. */
int slb_patch_finalizer(struct slb_ctl *c, const struct slb_svc *s, int add,
			const char *rv);
/* rv (may be NULL) gets the new resourceVersion when it patched. */
int slb_patch_status(struct slb_ctl *c, const struct slb_svc *s, const char *ip,
		     const char *host, char rv[32]);

/* slb_events.c */
void slb_event(struct slb_ctl *c, const struct slb_svc *s, int warning,
	       const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void slb_event_cloud_error(struct slb_ctl *c, const struct slb_svc *s,
			   const char *what, const struct ali_error *err);

/* slb_eni.c: fills ENI ids of pod-IP backends; dropped IPs in skipped. */
int slb_resolve_enis(struct slb_ctl *c, struct slb_want *w, char *skipped,
		     size_t n, struct ali_error *err);

/* slb_attach.c */
struct slb_sub_res {
	int applies; /* the Service is subsetted (Cluster policy, ECS) */
	int eligible, services, size, full, picked;
};

int slb_svc_subsetted(const struct slb_ctl *c, const struct slb_svc *s);
/* nodes minus the eligible nodes outside this Service's subset, into out
 * (room for n); queues other Services when the common size changed. */
int slb_subset_nodes(struct slb_ctl *c, struct slb_entry *e,
		     const struct slb_svc *svc, const struct slb_annot *a,
		     struct wk_node *const *nodes, size_t n,
		     struct wk_node **out, size_t *n_out,
		     struct slb_sub_res *res);
/* After a sync that changed its CLB: queue the Services that were short
 * of members, attachments may have been freed. */
void slb_subset_after(struct slb_ctl *c, const struct slb_entry *self,
		      int changed);
/* The sync of e ended: its reservation goes (its CLB state now holds
 * whatever it attached). */
void slb_subset_release(struct slb_entry *e);

/* slb_main.c */
int slb_svc_is_eni(const struct slb_ctl *c, const struct slb_svc *s);

#endif
