/*
 * slb_fixture - the world the service-LB planner unit tests run in: the
 * Service web/shop, its nodes and endpoints, and the cloud cache as a
 * successful apply of every planned call would leave it (pure, no cloud).
 * Shared by test_slb_diff.c and test_slb_attrs.c; every helper fails the
 * running cmocka test on an unexpected error.
 */
#ifndef CCM_TESTS_SLB_FIXTURE_H
#define CCM_TESTS_SLB_FIXTURE_H

#include <stddef.h>

#include "workers/service_lb/slb_note.h"
#include "workers/service_lb/slb_svc.h"

#define PFX "service.beta.kubernetes.io/alibaba-cloud-"
#define CID "c1"

#define SLBF_MAX_NODES 64

struct slbf_world {
	struct slb_svc *svc;
	struct slb_annot annot;
	struct wk_node *nodes[SLBF_MAX_NODES];
	size_t n_nodes;
	struct slb_eps eps;
	struct slb_cloud cloud;
	const char *tag_keys; /* what the sync loop remembered (slb_attrs.h) */
	int next_id;
};

struct json *slbf_json(const char *text);

/* Replaces the Service: annots is the annotations' JSON body, spec_fmt
 * the spec's fields besides type and ports; ports are a (80->8080,
 * nodePort 30080) and, with n_ports 2, b (443->8443, nodePort 30443). */
void slbf_set_svc(struct slbf_world *w, const char *annots, int n_ports,
		  const char *spec_fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ready: "True", "False", "Unknown"; labels: the labels' JSON body. */
struct wk_node *slbf_node(const char *name, const char *ready,
			  const char *labels, int unsched);
void slbf_add_node(struct slbf_world *w, const char *name, const char *ready,
		   const char *labels, int unsched);

/* The desired model; ENI lookups find eni-<ip> for every IP but 10.9.9.9. */
struct slb_want *slbf_build(struct slbf_world *w);

/* Plans with batch, then notes every call in the cache as a successful
 * apply would; the plan stays with the caller (slb_plan_done). */
void slbf_sync(struct slbf_world *w, int batch, struct slb_plan *p);
/* slbf_sync's number of calls, the plan freed. */
size_t slbf_sync_count(struct slbf_world *w, int batch);

void slbf_done(struct slbf_world *w);

#endif
