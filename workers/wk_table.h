/*
 * wk_table - the one declaration of every controller.
 *
 * Each entry says what a controller is called (--worker name, metrics,
 * logs, and its --controllers aliases), which worker entry runs it (and
 * the scaffolding stand-in tests select with CCM_SCAFFOLD), the
 * kube-system ServiceAccount of --use-service-account-credentials, the
 * RBAC it needs, the cloud products it calls (their QPS is shared by the
 * workers that call them) and the flags it reads. The supervisor, the
 * worker dispatch, --controllers, the rate shares and the permission
 * checks all read this table; tests check the manifests' ClusterRoles
 * against it (tests/integ/test_rbac_table.py).
 *
 * A rule marked optional is one the controller works without (it falls
 * back, e.g. Endpoints when EndpointSlices cannot be read): the seed's
 * ClusterRole need not grant it, deploy/ccm-recommended.yaml must.
 */
#ifndef CCM_WK_TABLE_H
#define CCM_WK_TABLE_H

#include <stddef.h>

struct wk_controller;

#define WK_NCONTROLLERS 3
#define WK_MAX_RULES	8
#define WK_MAX_CHECKS	24 /* required verb x resource pairs per entry */

/* Cloud products, bit (1 << index) as in cfg_cloud_rate_share. */
#define WK_PRODUCT_SLB 1u
#define WK_PRODUCT_VPC 2u
#define WK_PRODUCT_ECS 4u

struct wk_rule {
	const char *group;	  /* API group, "" for core */
	const char *resources[4]; /* "services", "services/status"; NULL end */
	const char *verbs[7];	  /* NULL end */
	int optional;
};

struct wk_def {
	const char *name;
	const char *aliases[3]; /* more --controllers names; NULL end */
	unsigned bit;		/* enum cfg_controller */
	const struct wk_controller *ctl;
	const struct wk_controller *scaffold;
	const char *service_account;
	unsigned products;
	struct wk_rule rules[WK_MAX_RULES]; /* group NULL ends */
	const char *flags[10];		    /* without "--"; NULL end */
};

extern const struct wk_def wk_table[WK_NCONTROLLERS];
/* The supervisor's own needs (election locks, Events, TokenRequest), on
 * the credentials every worker falls back to. */
extern const struct wk_def wk_supervisor;

/* By --worker name; NULL when unknown. */
const struct wk_def *wk_table_find(const char *name);
/* By name or alias (n bytes of s, not NUL-terminated); NULL when unknown. */
const struct wk_def *wk_table_lookup(const char *s, size_t n);
/* Every controller's bit. */
unsigned wk_table_all_bits(void);

/* One access check: verb on group/resource[/subresource]. */
struct wk_check {
	const char *verb, *group, *resource;
};

/* The required rules of d as verb x resource pairs; returns their count
 * (at most max). */
size_t wk_table_checks(const struct wk_def *d, struct wk_check *out,
		       size_t max);

#endif
