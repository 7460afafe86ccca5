/*
 * sup_lock - tryAcquireOrRenew over one lock object; see sup_lock.h.
 */
#include "supervisor/sup_lock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"

struct sup_lock {
	enum sup_lock_kind kind;
	char ns[64], name[254];
	char coll[512], obj[800], desc[300];
	struct sup_record observed;
	char observed_key[512];
	int64_t observed_boot;
	struct json *cur;	/* last GET answer; NULL when missing */
	struct sup_record want; /* the record being written */
};

int sup_lock_new(enum sup_lock_kind kind, const char *ns, const char *name,
		 struct sup_lock **ret)
{
	struct sup_lock *l = calloc(1, sizeof(*l));

	*ret = NULL;
	if (l == NULL)
		return -ENOMEM;
	l->kind = kind;
	snprintf(l->ns, sizeof(l->ns), "%s", ns);
	snprintf(l->name, sizeof(l->name), "%s", name);
	if (kind == SUP_LOCK_LEASE)
		snprintf(l->coll, sizeof(l->coll),
			 "/apis/coordination.k8s.io/v1/namespaces/%s/leases",
			 ns);
	else
		snprintf(l->coll, sizeof(l->coll),
			 "/api/v1/namespaces/%s/endpoints", ns);
	snprintf(l->obj, sizeof(l->obj), "%s/%s", l->coll, name);
	snprintf(l->desc, sizeof(l->desc), "%s %s/%s",
		 kind == SUP_LOCK_LEASE ? "lease" : "endpoints", ns, name);
	*ret = l;
	return 0;
}

void sup_lock_free(struct sup_lock *l)
{
	if (l == NULL)
		return;
	json_free(l->cur);
	free(l);
}

const char *sup_lock_path(const struct sup_lock *l)
{
	return l->obj;
}

const struct sup_record *sup_lock_observed(const struct sup_lock *l)
{
	return &l->observed;
}

const char *sup_lock_describe(const struct sup_lock *l)
{
	return l->desc;
}

/* Copies a string->string map (labels, annotations) except skip. */
static int copy_map(struct buf *b, const struct json *m, const char *skip,
		    int *first)
{
	int e = 0;

	for (size_t i = 0; m && m->type == JSON_OBJECT && i < m->n; i++) {
		if (skip && strcmp(m->keys[i], skip) == 0)
			continue;
		if (m->items[i]->type != JSON_STRING)
			continue;
		e |= buf_puts(b, *first ? "" : ",");
		e |= json_buf_str(b, m->keys[i]);
		e |= buf_puts(b, ":");
		e |= json_buf_str(b, m->items[i]->str);
		*first = 0;
	}
	return e;
}

static int put_meta(struct sup_lock *l, struct buf *b, const struct json *cur)
{
	const char *rv = json_path_str(cur, "metadata.resourceVersion");
	int e = 0;

	e |= buf_printf(b, "\"metadata\":{\"name\":");
	e |= json_buf_str(b, l->name);
	e |= buf_puts(b, ",\"namespace\":");
	e |= json_buf_str(b, l->ns);
	if (rv) {
		e |= buf_puts(b, ",\"resourceVersion\":");
		e |= json_buf_str(b, rv);
	}
	if (json_path(cur, "metadata.labels")) {
		int first = 1;

		e |= buf_puts(b, ",\"labels\":{");
		e |= copy_map(b, json_path(cur, "metadata.labels"), NULL,
			      &first);
		e |= buf_puts(b, "}");
	}
	return e;
}

static int lease_body(struct sup_lock *l, struct buf *b, const struct json *cur,
		      const struct sup_record *r)
{
	int e = 0, first = 1;

	e |= buf_puts(b, "{\"apiVersion\":\"coordination.k8s.io/v1\","
			 "\"kind\":\"Lease\",");
	e |= put_meta(l, b, cur);
	if (json_path(cur, "metadata.annotations")) {
		e |= buf_puts(b, ",\"annotations\":{");
		e |= copy_map(b, json_path(cur, "metadata.annotations"), NULL,
			      &first);
		e |= buf_puts(b, "}");
	}
	e |= buf_puts(b, "},\"spec\":");
	e |= sup_record_lease_spec(b, r);
	e |= buf_puts(b, "}");
	return e ? -E2BIG : 0;
}

static int endpoints_body(struct sup_lock *l, struct buf *b,
			  const struct json *cur, const struct sup_record *r)
{
	struct buf rec;
	int e = 0, first = 1;

	buf_init(&rec, 4096);
	e |= sup_record_annotation(&rec, r);
	e |= buf_puts(b, "{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",");
	e |= put_meta(l, b, cur);
	e |= buf_puts(b, ",\"annotations\":{");
	e |= copy_map(b, json_path(cur, "metadata.annotations"),
		      SUP_LEADER_ANNOTATION, &first);
	e |= buf_puts(b, first ? "" : ",");
	e |= buf_printf(b, "\"%s\":", SUP_LEADER_ANNOTATION);
	e |= json_buf_str(b, rec.data ? rec.data : "");
	e |= buf_puts(b, "}}}");
	buf_done(&rec);
	return e ? -E2BIG : 0;
}

static int body(struct sup_lock *l, struct buf *b, const struct json *cur,
		const struct sup_record *r)
{
	if (l->kind == SUP_LOCK_LEASE)
		return lease_body(l, b, cur, r);
	return endpoints_body(l, b, cur, r);
}

static void read_record(struct sup_lock *l, const struct json *cur,
			struct sup_record *r)
{
	const struct json *ann;
	const char *text;

	if (l->kind == SUP_LOCK_LEASE) {
		sup_record_from_lease(cur, r);
		return;
	}
	/* The key has dots, so it is looked up directly, not by path. */
	ann = json_path(cur, "metadata.annotations");
	text = json_str(json_get(ann, SUP_LEADER_ANNOTATION));
	if (text == NULL || sup_record_from_annotation(text, r) < 0)
		memset(r, 0, sizeof(*r));
}

static void observe(struct sup_lock *l, const struct sup_record *r,
		    int64_t now_boot)
{
	char key[512];

	sup_record_key(r, key, sizeof(key));
	if (strcmp(key, l->observed_key) != 0) {
		snprintf(l->observed_key, sizeof(l->observed_key), "%s", key);
		l->observed = *r;
		l->observed_boot = now_boot;
	}
}

int sup_lock_got(struct sup_lock *l, int rc, struct json *obj, int64_t now_boot)
{
	struct sup_record cur;

	json_free(l->cur);
	l->cur = NULL;
	if (rc == -ENOENT) {
		json_free(obj);
		memset(&cur, 0, sizeof(cur));
		observe(l, &cur, now_boot);
		return 0;
	}
	if (rc == 0 && obj == NULL)
		rc = -EPROTO;
	if (rc < 0) {
		json_free(obj);
		return rc;
	}
	l->cur = obj;
	read_record(l, obj, &cur);
	observe(l, &cur, now_boot);
	return 0;
}

int64_t sup_lock_wait_ms(const struct sup_lock *l, const char *me,
			 int64_t own_lease_ms, int64_t now_boot)
{
	const struct sup_record *r = &l->observed;
	int64_t rec_ms = r->duration_s > 0 ? r->duration_s * 1000 : 0;
	int64_t lease = own_lease_ms, left;

	if (l->cur == NULL || !r->holder[0] || strcmp(r->holder, me) == 0)
		return 0;
	if (rec_ms > SUP_LOCK_RECORD_CAP_MS)
		rec_ms = SUP_LOCK_RECORD_CAP_MS;
	if (rec_ms > lease)
		lease = rec_ms;
	left = l->observed_boot + lease - now_boot;
	return left > 0 ? left : 0;
}

static void desired(const struct sup_record *old, const char *me,
		    int64_t lease_ms, struct sup_record *r)
{
	int64_t now = clock_wall_ms();

	memset(r, 0, sizeof(*r));
	snprintf(r->holder, sizeof(r->holder), "%s", me);
	r->duration_s = lease_ms / 1000;
	r->acquire_ms = r->renew_ms = now;
	if (old == NULL)
		return;
	if (strcmp(old->holder, me) == 0) {
		r->acquire_ms = old->acquire_ms ? old->acquire_ms : now;
		r->transitions = old->transitions;
	} else {
		r->transitions = old->transitions + 1;
	}
}

static int make_write(struct sup_lock *l, struct buf *b,
		      struct sup_lock_write *w)
{
	buf_reset(b);
	w->method = l->cur ? "PUT" : "POST";
	w->path = l->cur ? l->obj : l->coll;
	return body(l, b, l->cur, &l->want);
}

int sup_lock_write_req(struct sup_lock *l, const char *me, int64_t lease_ms,
		       struct buf *b, struct sup_lock_write *w)
{
	desired(l->cur ? &l->observed : NULL, me, lease_ms, &l->want);
	return make_write(l, b, w);
}

int sup_lock_release_req(struct sup_lock *l, const char *me, struct buf *b,
			 struct sup_lock_write *w)
{
	int r;

	if (l->cur == NULL || strcmp(l->observed.holder, me) != 0)
		return 0;
	l->want = l->observed;
	l->want.holder[0] = '\0';
	l->want.duration_s = 1;
	l->want.acquire_ms = l->want.renew_ms = clock_wall_ms();
	r = make_write(l, b, w);
	return r < 0 ? r : 1;
}

void sup_lock_wrote(struct sup_lock *l, int rc, int64_t now_boot)
{
	if (rc == 0)
		observe(l, &l->want, now_boot);
}
