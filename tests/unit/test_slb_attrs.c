/* Unit tests: in-place billing and tag changes and the immutable keys of
 * an existing CLB (slb_attrs), through the planner (slb_diff) and the
 * cache notes, as the Go CCM behaves (pure logic, no cloud). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/slb_fixture.h"
#include "workers/service_lb/slb_attrs.h"

/* One port (a: 80); ip is spec.loadBalancerIP. */
static void set_svc_ip(struct slbf_world *w, const char *annots, const char *ip)
{
	slbf_set_svc(w, annots, 1, "\"loadBalancerIP\":\"%s\"", ip);
}

static void set_svc(struct slbf_world *w, const char *annots)
{
	set_svc_ip(w, annots, "");
}

/* Syncs; the plan (the caller's to free) is one call, of op. */
static void sync_one(struct slbf_world *w, enum slb_op op, struct slb_plan *p)
{
	slbf_sync(w, 20, p);
	assert_int_equal(p->n, 1);
	assert_int_equal(p->v[0].op, op);
}

/* An internet PayBySpec CLB as DescribeLoadBalancerAttribute shows it. */
static void existing(struct slbf_world *w, const char *annots)
{
	struct ali_lb lb;
	struct ali_tag tags[3] = {{"kubernetes.do.not.delete", "aweb"},
				  {"ack.aliyun.com", CID},
				  {"console", "x"}};

	set_svc(w, annots);
	slbf_add_node(w, "n1", "True", "", 0);
	assert_true(slbf_sync_count(w, 20) > 0);
	memset(&lb, 0, sizeof(lb));
	strcpy(lb.master_zone_id, "cn-hangzhou-a");
	strcpy(lb.slave_zone_id, "cn-hangzhou-b");
	strcpy(lb.resource_group_id, "rg-1");
	strcpy(lb.instance_charge_type, "PayBySpec");
	strcpy(lb.internet_charge_type, "4"); /* the list call's code */
	lb.bandwidth = 5120;
	lb.tags = tags;
	lb.n_tags = 3;
	assert_int_equal(slb_attrs_from_lb(&lb, &w->cloud), 0);
	strcpy(w->cloud.address, "47.1.1.1");
	strcpy(w->cloud.spec, "slb.s1.small");
	assert_int_equal(slbf_sync_count(w, 20), 0);
}

static void test_from_lb(void **st)
{
	struct slbf_world w = {0};

	(void)st;
	existing(&w, "");
	assert_string_equal(w.cloud.internet_charge_type, "paybytraffic");
	assert_string_equal(w.cloud.ip_version, "ipv4"); /* left out: ipv4 */
	assert_int_equal(w.cloud.bandwidth, 5120);
	assert_int_equal(w.cloud.n_tags, 3);
	assert_string_equal(slb_cloud_tag(&w.cloud, "console")->val, "x");
	assert_true(w.cloud.attrs_read);
	slbf_done(&w);
}

static void test_instance_charge_type(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	existing(&w, "");
	set_svc(&w, "\"" PFX "loadbalancer-instance-charge-type\":"
		    "\"paybyclcu\"");
	sync_one(&w, SLB_OP_MODIFY_CHARGE_TYPE, &p);
	assert_string_equal(p.v[0].str, "PayByCLCU");
	assert_string_equal(p.v[0].cert, ""); /* no spec under CLCU */
	slb_plan_done(&p);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	/* a spec means nothing under PayByCLCU */
	set_svc(&w, "\"" PFX "loadbalancer-spec\":\"slb.s2.small\"");
	strcpy(w.cloud.spec, "slb.s1.small");
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	/* back to PayBySpec: the annotated spec rides on the same call */
	set_svc(&w, "\"" PFX "loadbalancer-instance-charge-type\":"
		    "\"PayBySpec\",\"" PFX "loadbalancer-spec\":"
		    "\"slb.s2.small\"");
	sync_one(&w, SLB_OP_MODIFY_CHARGE_TYPE, &p);
	assert_string_equal(p.v[0].str, "PayBySpec");
	assert_string_equal(p.v[0].cert, "slb.s2.small");
	slb_plan_done(&p);
	assert_string_equal(w.cloud.spec, "slb.s2.small");
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	/* same type, other spec: only the spec call */
	set_svc(&w, "\"" PFX "loadbalancer-instance-charge-type\":"
		    "\"PayBySpec\",\"" PFX "loadbalancer-spec\":"
		    "\"slb.s3.small\"");
	sync_one(&w, SLB_OP_MODIFY_SPEC, &p);
	assert_string_equal(p.v[0].str, "slb.s3.small");
	slb_plan_done(&p);
	/* with a backend change in the same sync, billing goes last */
	set_svc(&w, "\"" PFX "loadbalancer-instance-charge-type\":"
		    "\"PayByCLCU\",\"" PFX "loadbalancer-default-weight\":"
		    "\"50\"");
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.v[0].op, SLB_OP_SET_BE);
	assert_int_equal(p.v[1].op, SLB_OP_MODIFY_CHARGE_TYPE);
	slb_plan_done(&p);
	/* PayBySpec without a spec annotation: the Go CCM's default */
	set_svc(&w, "\"" PFX "loadbalancer-instance-charge-type\":"
		    "\"PayBySpec\",\"" PFX "loadbalancer-default-weight\":"
		    "\"50\"");
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0].cert, "slb.s1.small");
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_internet_spec(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	existing(&w, "");
	/* bandwidth alone is not applied while billed by traffic */
	set_svc(&w, "\"" PFX "loadbalancer-bandwidth\":\"20\"");
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	set_svc(&w, "\"" PFX "loadbalancer-charge-type\":\"paybybandwidth\","
		    "\"" PFX "loadbalancer-bandwidth\":\"20\"");
	sync_one(&w, SLB_OP_MODIFY_INTERNET_SPEC, &p);
	assert_string_equal(p.v[0].str, "paybybandwidth");
	assert_int_equal(p.v[0].flag, 20);
	slb_plan_done(&p);
	assert_int_equal(w.cloud.bandwidth, 20);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	set_svc(&w, "\"" PFX "loadbalancer-charge-type\":\"paybybandwidth\","
		    "\"" PFX "loadbalancer-bandwidth\":\"30\"");
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].flag, 30);
	slb_plan_done(&p);
	/* back to traffic, no bandwidth annotation: not sent */
	set_svc(&w, "\"" PFX "loadbalancer-charge-type\":\"paybytraffic\"");
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0].str, "paybytraffic");
	assert_int_equal(p.v[0].flag, 0);
	slb_plan_done(&p);
	/* an intranet CLB is never re-billed */
	w.cloud.intranet = 1;
	set_svc(&w, "\"" PFX "loadbalancer-address-type\":\"intranet\",\"" PFX
		    "loadbalancer-charge-type\":\"paybybandwidth\"");
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	slbf_done(&w);
}

static int has_tag(const struct ali_tag *t, size_t n, const char *k,
		   const char *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].key, k) && !strcmp(t[i].value, v))
			return 1;
	return 0;
}

static void tags_delta(struct slbf_world *w, struct ali_tag *add, size_t *n_add,
		       struct ali_tag *rm, size_t *n_rm)
{
	struct slb_want *want = slbf_build(w);

	slb_attrs_tags_delta(want, &w->cloud, add, n_add, rm, n_rm);
	slb_model_free(want);
}

static void test_tags(void **st)
{
	struct slbf_world w = {0};
	struct ali_tag add[SLB_MAX_TAGS], rm[SLB_MAX_TAGS];
	size_t n_add, n_rm;
	struct slb_plan p;
	char *keys = NULL;

	(void)st;
	existing(&w, "");
	/* add and re-value; ownership keys in the annotation are ignored */
	set_svc(&w, "\"" PFX "loadbalancer-additional-resource-tags\":"
		    "\"team=a,env,console=y,kubernetes.do.not.delete=z\"");
	tags_delta(&w, add, &n_add, rm, &n_rm);
	assert_int_equal(n_add, 3);
	assert_true(has_tag(add, n_add, "team", "a"));
	assert_true(has_tag(add, n_add, "env", ""));
	assert_true(has_tag(add, n_add, "console", "y"));
	assert_int_equal(n_rm, 0);
	sync_one(&w, SLB_OP_ADD_TAGS, &p);
	slb_plan_done(&p);
	assert_string_equal(slb_cloud_tag(&w.cloud, "team")->val, "a");
	assert_string_equal(
		slb_cloud_tag(&w.cloud, "kubernetes.do.not.delete")->val,
		"aweb");
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	assert_int_equal(slb_attrs_remember_tags(&w.annot, &keys), 0);
	assert_string_equal(keys, "team\nenv\nconsole\nkubernetes.do.not."
				  "delete\n");
	w.tag_keys = keys;

	/* env dropped: removed, since we set it; a console tag we never
	 * set stays */
	assert_int_equal(slb_cloud_set_tag(&w.cloud, "owner", "ops"), 0);
	set_svc(&w, "\"" PFX "loadbalancer-additional-resource-tags\":"
		    "\"team=a,console=y\"");
	tags_delta(&w, add, &n_add, rm, &n_rm);
	assert_int_equal(n_add, 0);
	assert_int_equal(n_rm, 1);
	assert_true(has_tag(rm, n_rm, "env", ""));
	sync_one(&w, SLB_OP_REMOVE_TAGS, &p);
	slb_plan_done(&p);
	assert_null(slb_cloud_tag(&w.cloud, "env"));
	assert_non_null(slb_cloud_tag(&w.cloud, "owner"));
	assert_non_null(slb_cloud_tag(&w.cloud, "ack.aliyun.com"));
	assert_int_equal(slbf_sync_count(&w, 20), 0);

	/* without the annotation no tag changes, ours included */
	set_svc(&w, "");
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	/* remembering keeps the old set when there is no annotation */
	assert_int_equal(slb_attrs_remember_tags(&w.annot, &keys), 0);
	assert_string_equal(keys, "team\nenv\nconsole\nkubernetes.do.not."
				  "delete\n");
	/* after a restart (nothing remembered) nothing is removed */
	w.tag_keys = NULL;
	set_svc(&w, "\"" PFX "loadbalancer-additional-resource-tags\":"
		    "\"console=y\"");
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	free(keys);
	slbf_done(&w);
}

static void expect_warn(struct slbf_world *w, const char *annots,
			const char *key, const char *have, const char *want)
{
	struct slb_plan p;

	set_svc(w, annots);
	slbf_sync(w, 20, &p);
	assert_int_equal(p.n, 0);
	assert_non_null(strstr(p.warn, key));
	assert_non_null(strstr(p.warn, have));
	assert_non_null(strstr(p.warn, want));
	assert_non_null(strstr(p.warn, "lb-1"));
	slb_plan_done(&p);
}

static void test_immutable(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	existing(&w, "");
	expect_warn(&w,
		    "\"" PFX "loadbalancer-master-zoneid\":\"cn-hangzhou-c\"",
		    PFX "loadbalancer-master-zoneid", "\"cn-hangzhou-a\"",
		    "\"cn-hangzhou-c\"");
	expect_warn(&w,
		    "\"" PFX "loadbalancer-slave-zoneid\":\"cn-hangzhou-c\"",
		    PFX "loadbalancer-slave-zoneid", "\"cn-hangzhou-b\"",
		    "\"cn-hangzhou-c\"");
	expect_warn(&w, "\"" PFX "loadbalancer-address-type\":\"intranet\"",
		    PFX "loadbalancer-address-type", "\"internet\"",
		    "\"intranet\"");
	expect_warn(&w, "\"" PFX "loadbalancer-ip-version\":\"ipv6\"",
		    PFX "loadbalancer-ip-version", "\"ipv4\"", "\"ipv6\"");
	expect_warn(&w, "\"" PFX "loadbalancer-resource-group-id\":\"rg-2\"",
		    PFX "loadbalancer-resource-group-id", "\"rg-1\"",
		    "\"rg-2\"");
	expect_warn(&w, "\"" PFX "loadbalancer-ip\":\"47.2.2.2\"",
		    PFX "loadbalancer-ip", "\"47.1.1.1\"", "\"47.2.2.2\"");
	/* two at once, both named */
	expect_warn(&w,
		    "\"" PFX "loadbalancer-master-zoneid\":\"cn-hangzhou-c\","
		    "\"" PFX "loadbalancer-resource-group-id\":\"rg-2\"",
		    PFX "loadbalancer-master-zoneid", "\"rg-1\"",
		    "\"cn-hangzhou-c\"");
	/* spec.loadBalancerIP is named as such */
	set_svc_ip(&w, "", "47.3.3.3");
	slbf_sync(&w, 20, &p);
	assert_non_null(strstr(p.warn, "spec.loadBalancerIP"));
	assert_null(strstr(p.warn, PFX));
	slb_plan_done(&p);
	/* the same values, or none: no warning */
	set_svc_ip(&w,
		   "\"" PFX "loadbalancer-master-zoneid\":\"cn-hangzhou-a\","
		   "\"" PFX "loadbalancer-address-type\":\"internet\","
		   "\"" PFX "loadbalancer-ip-version\":\"ipv4\"",
		   "47.1.1.1");
	slbf_sync(&w, 20, &p);
	assert_string_equal(p.warn, "");
	slb_plan_done(&p);
	/* an intranet CLB without the address-type annotation (a reused
	 * one, say) is not reported */
	w.cloud.intranet = 1;
	strcpy(w.cloud.vswitch_id, "vsw-1");
	strcpy(w.cloud.network_type, "vpc");
	set_svc(&w, "");
	slbf_sync(&w, 20, &p);
	assert_string_equal(p.warn, "");
	slb_plan_done(&p);
	expect_warn(&w,
		    "\"" PFX "loadbalancer-address-type\":\"intranet\",\"" PFX
		    "loadbalancer-vswitch-id\":\"vsw-2\"",
		    PFX "loadbalancer-vswitch-id", "\"vsw-1\"", "\"vsw-2\"");
	expect_warn(&w,
		    "\"" PFX "loadbalancer-address-type\":\"intranet\",\"" PFX
		    "loadbalancer-network-type\":\"classic\"",
		    PFX "loadbalancer-network-type", "\"vpc\"", "\"classic\"");
	/* the rest of the Service still syncs next to a warning */
	expect_warn(&w, "\"" PFX "loadbalancer-address-type\":\"internet\"",
		    PFX "loadbalancer-address-type", "\"intranet\"",
		    "\"internet\"");
	set_svc(&w, "\"" PFX "loadbalancer-address-type\":\"internet\",\"" PFX
		    "loadbalancer-name\":\"n2\"");
	sync_one(&w, SLB_OP_SET_NAME, &p);
	assert_non_null(strstr(p.warn, "address-type"));
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_need_read(void **st)
{
	struct ali_lb_create o;
	struct ali_lb out;
	struct slb_cloud c;
	struct slb_annot a;
	struct ali_tag tag = {"kubernetes.do.not.delete", "aweb"};

	(void)st;
	memset(&o, 0, sizeof(o));
	memset(&out, 0, sizeof(out));
	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	o.tags = &tag;
	o.n_tags = 1;
	o.bandwidth = ALI_UNSET;
	o.master_zone_id = "cn-hangzhou-a";
	strcpy(out.vswitch_id, "vsw-9");
	assert_int_equal(slb_attrs_from_create(&o, &out, &c), 0);
	c.exists = 1;
	assert_string_equal(c.master_zone, "cn-hangzhou-a");
	assert_string_equal(c.vswitch_id, "vsw-9");
	assert_string_equal(c.ip_version, "ipv4");
	assert_int_equal(c.bandwidth, 0);
	assert_int_equal(c.n_tags, 1);
	/* nothing annotated: no describe needed */
	assert_false(slb_attrs_need_read(&a, &c));
	/* billing annotated after the create: its value is unknown */
	strcpy(a.internet_charge_type, "paybybandwidth");
	assert_true(slb_attrs_need_read(&a, &c));
	a.internet_charge_type[0] = '\0';
	strcpy(a.instance_charge_type, "PayBySpec");
	assert_true(slb_attrs_need_read(&a, &c));
	/* sent on the create: known */
	o.instance_charge_type = "PayBySpec";
	assert_int_equal(slb_attrs_from_create(&o, &out, &c), 0);
	assert_false(slb_attrs_need_read(&a, &c));
	/* a zone the cloud picked is known only from a describe */
	a.instance_charge_type[0] = '\0';
	strcpy(a.slave_zone, "cn-hangzhou-b");
	assert_true(slb_attrs_need_read(&a, &c));
	strcpy(a.instance_charge_type, "PayBySpec");
	/* once described, never again for this */
	c.instance_charge_type[0] = '\0';
	c.attrs_read = 1;
	assert_false(slb_attrs_need_read(&a, &c));
	slb_cloud_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_lb),
		cmocka_unit_test(test_instance_charge_type),
		cmocka_unit_test(test_internet_spec),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_immutable),
		cmocka_unit_test(test_need_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
