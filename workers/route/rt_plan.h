/*
 * rt_plan - the route worker's reconcile decision, as a pure function.
 *
 * Input: a snapshot of the Node cache (name, canonical IPv4 pod CIDR,
 * instance id, eligibility), whether that cache completed a full LIST,
 * --cluster-cidr, the Custom entries observed in each route table, and the
 * Nodes removed by DELETE watch events since they were last needed.
 * Output: per table the entries to delete and the routes to create, plus
 * each eligible node's state per table.
 *
 * Ownership (issues 6 and 11). An entry is OURS when it is Custom, has
 * exactly one next hop of type Instance, and either
 *   - carries this cluster's marker (RouteEntryName, see rt_mark.h) and
 *     sits inside --cluster-cidr (without one nothing is deleted), or
 *   - (unmarked, "adopted") sits exactly at a current Node's pod CIDR with
 *     that Node's instance as its hop.
 * Rules:
 *   - nothing is deleted before the node cache is synced;
 *   - a marked entry is deleted when no Node has its destination as pod
 *     CIDR (stale; "gone" when a DELETE event names it). An unmarked entry
 *     is deleted as "gone" only when a DELETE event named exactly its
 *     destination and its instance (it was adopted by that node);
 *   - an entry exactly at the pod CIDR of an eligible Node running on
 *     another instance is a conflict and is deleted, marked or not, when
 *     it has a single Instance hop and lies inside --cluster-cidr (the
 *     node needs its pod network); anything else there blocks the node;
 *   - any other Custom entry inside --cluster-cidr (unmarked, ECMP, other
 *     hop types) is FOREIGN: reported in plan.foreign, never touched;
 *   - stale and conflict deletions of one table are held back together
 *     when they exceed rt_plan_guard_limit(managed): the caller warns with
 *     RouteDeletionBlocked. Deletions backed by a DELETE event are exempt,
 *     which is how blocked routes eventually go;
 *   - an eligible node gets a create only when nothing at all occupies its
 *     pod CIDR in that table; an entry still Pending/Deleting is waited for,
 *     a conflicting one is deleted first (the create follows in a later
 *     pass, retry is then set), anything else makes the node BLOCKED.
 *
 * Ownership: rt_plan_build fills a caller-owned struct rt_plan with heap
 * arrays that rt_plan_done frees. Input strings are only borrowed during
 * the call; ops copy what they need.
 */
#ifndef CCM_RT_PLAN_H
#define CCM_RT_PLAN_H

#include <stddef.h>

#include "workers/route/rt_cidr.h"

#define RT_ID_MAX   64
#define RT_DST_MAX  64
#define RT_NAME_MAX 254
#define RT_NO_NODE  ((size_t)-1)

enum rt_status {
	RT_ST_AVAILABLE = 0,
	RT_ST_PENDING, /* being created: wait, never re-create */
	RT_ST_DELETING,
	RT_ST_MODIFYING,
};

/* One observed route entry (any type; the plan filters). */
struct rt_entry {
	char id[RT_ID_MAX];
	char dst[RT_DST_MAX]; /* DestinationCidrBlock as the cloud sent it */
	char hop_type[32];
	char hop_id[RT_ID_MAX];
	int custom; /* Type == "Custom" */
	int marked; /* RouteEntryName is this cluster's marker */
	int n_hops; /* every next hop counts (ECMP has several) */
	enum rt_status status;
};

struct rt_table_obs {
	const char *id;
	const struct rt_entry *entries;
	size_t n;
	int listed; /* 0: listing failed, the table is left alone */
};

struct rt_pnode {
	const char *name;
	const char *cidr;     /* canonical IPv4 pod CIDR or "" */
	const char *instance; /* ECS instance id or "" */
	int eligible;	      /* wk_node_route_eligible */
};

/* A Node removed by a DELETE watch event. */
struct rt_gone {
	char name[RT_NAME_MAX];
	char cidr[RT_CIDR_MAX];
	char instance[RT_ID_MAX];
};

struct rt_plan_in {
	const struct rt_pnode *nodes;
	size_t n_nodes;
	int synced;
	int have_cluster_cidr;
	struct rt_cidr cluster;
	const struct rt_table_obs *tables;
	size_t n_tables;
	const struct rt_gone *gone;
	size_t n_gone;
};

enum rt_reason {
	RT_CREATE = 0,
	RT_DEL_STALE,	 /* no Node has this pod CIDR */
	RT_DEL_CONFLICT, /* the Node with this CIDR runs elsewhere */
	RT_DEL_GONE,	 /* a DELETE event removed its Node */
	RT_FOREIGN,	 /* not ours, inside the cluster CIDR: left alone */
};

struct rt_op {
	size_t table;
	size_t node; /* RT_NO_NODE for stale/gone deletions */
	enum rt_reason reason;
	char dst[RT_DST_MAX]; /* create: canonical; delete: as observed */
	char hop_id[RT_ID_MAX];
	char entry_id[RT_ID_MAX]; /* deletes and foreign entries */
	int n_hops;		  /* foreign entries */
	char hop_type[32];	  /* foreign entries */
};

enum rt_nstate {
	RT_NS_SKIP = 0, /* not eligible: no route wanted */
	RT_NS_READY,	/* the route exists and is Available */
	RT_NS_PENDING,	/* exists but not settled, or being replaced */
	RT_NS_CREATE,	/* a create is planned */
	RT_NS_BLOCKED,	/* the destination is held by an entry we keep */
	RT_NS_UNKNOWN,	/* the table could not be listed */
};

struct rt_plan {
	size_t n_nodes, n_tables;
	struct rt_op *creates;
	size_t n_creates;
	struct rt_op *deletes;
	size_t n_deletes;
	struct rt_op *foreign; /* reported, never changed */
	size_t n_foreign;
	enum rt_nstate *state;	 /* [node * n_tables + table] */
	size_t *managed;	 /* per table: entries that are ours */
	size_t *custom;		 /* per table: every Custom entry */
	size_t *blocked;	 /* per table: deletions held by the guard */
	unsigned char *gone_use; /* per gone record: still describes a route */
	int retry;		 /* something waits: plan again soon */
};

/* Largest number of unconfirmed deletions allowed in one table. */
size_t rt_plan_guard_limit(size_t managed);
/* 1 when the entry has the shape the worker may delete (Custom, one
 * Instance hop, inside the cluster CIDR); ownership is decided apart. */
int rt_entry_managed(const struct rt_entry *e, int have_cluster_cidr,
		     const struct rt_cidr *cluster);
/* 0 or -ENOMEM (out is then empty). */
int rt_plan_build(const struct rt_plan_in *in, struct rt_plan *out);
void rt_plan_done(struct rt_plan *p);
enum rt_nstate rt_plan_state(const struct rt_plan *p, size_t node,
			     size_t table);
/* Custom entries of table t once the plan ran: what the quota sees. */
size_t rt_plan_entries_after(const struct rt_plan *p, size_t t);

#endif
