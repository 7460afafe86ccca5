#include "kube/kube_event.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/kube_ratelimit.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"

#define CORRELATE_MS  (10LL * 60 * 1000)
#define CACHE_SIZE    1024
#define SPAM_BURST    25
#define SPAM_QPS      (1.0 / 300.0)
#define MSG_MAX	      1024
#define KEY_MAX	      1536
#define STATUS_LOGGED 8
#define QUEUE_MAX     256 /* Events kept while the API server is away */

struct seen {
	char *key; /* object + type + reason + message */
	char *ns;
	char *name; /* the Event's name */
	long long count;
	char first_ts[32];
	int64_t last_ms;
};

struct spam {
	char *key; /* object */
	struct kube_rl rl;
	int64_t last_ms;
};

struct pending {
	char *path;
	char *body;
};

struct kube_recorder {
	struct kube_client *c;
	struct pending q[QUEUE_MAX]; /* ring of creates to resend */
	size_t q_head, q_len;
	char *component;
	char *host;
	struct seen seen[CACHE_SIZE];
	struct spam spam[CACHE_SIZE];
	long logged[STATUS_LOGGED]; /* statuses already logged */
	unsigned seq;
	int64_t not_before_ms; /* a 429's Retry-After: nothing sent before */
	struct kube_recorder_stats st;
};

int kube_recorder_new(struct kube_client *c, const char *component,
		      const char *host, struct kube_recorder **ret)
{
	struct kube_recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->c = c;
	r->component = strdup(component ? component : "");
	r->host = strdup(host ? host : "");
	if (!r->component || !r->host) {
		kube_recorder_free(r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

void kube_recorder_free(struct kube_recorder *rec)
{
	size_t i;

	if (!rec)
		return;
	for (i = 0; i < rec->q_len; i++) {
		struct pending *p = &rec->q[(rec->q_head + i) % QUEUE_MAX];

		free(p->path);
		free(p->body);
	}
	for (i = 0; i < CACHE_SIZE; i++) {
		free(rec->seen[i].key);
		free(rec->seen[i].ns);
		free(rec->seen[i].name);
		free(rec->spam[i].key);
	}
	free(rec->component);
	free(rec->host);
	free(rec);
}

void kube_recorder_get_stats(const struct kube_recorder *rec,
			     struct kube_recorder_stats *out)
{
	*out = rec->st;
	out->queued = rec->q_len;
}

static void timestamp(char *out, size_t n)
{
	time_t t = (time_t)(clock_wall_ms() / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *s(const char *v)
{
	return v ? v : "";
}

static const char *event_ns(const struct kube_objref *ref)
{
	return ref->namespace && *ref->namespace ? ref->namespace : "default";
}

static void obj_key(const struct kube_objref *ref, char *out, size_t n)
{
	snprintf(out, n, "%s\x1f%s\x1f%s\x1f%s\x1f%s", s(ref->kind),
		 s(ref->namespace), s(ref->name), s(ref->uid),
		 s(ref->api_version));
}

/* client-go's EventSourceObjectSpamFilter: a bucket per object. */
static int spam_allow(struct kube_recorder *rec, const char *okey)
{
	struct spam *victim = &rec->spam[0];
	size_t i;

	for (i = 0; i < CACHE_SIZE; i++) {
		struct spam *sp = &rec->spam[i];

		if (sp->key && !strcmp(sp->key, okey)) {
			sp->last_ms = clock_mono_ms();
			return kube_rl_try(&sp->rl);
		}
		if (!sp->key || sp->last_ms < victim->last_ms)
			victim = sp;
		if (!sp->key)
			break;
	}
	free(victim->key);
	victim->key = strdup(okey);
	victim->last_ms = clock_mono_ms();
	kube_rl_init(&victim->rl, SPAM_QPS, SPAM_BURST);
	return victim->key ? kube_rl_try(&victim->rl) : 1;
}

static struct seen *seen_find(struct kube_recorder *rec, const char *key)
{
	size_t i;

	for (i = 0; i < CACHE_SIZE; i++)
		if (rec->seen[i].key && !strcmp(rec->seen[i].key, key))
			return &rec->seen[i];
	return NULL;
}

static struct seen *seen_slot(struct kube_recorder *rec)
{
	struct seen *victim = &rec->seen[0];
	size_t i;

	for (i = 0; i < CACHE_SIZE; i++) {
		if (!rec->seen[i].key)
			return &rec->seen[i];
		if (rec->seen[i].last_ms < victim->last_ms)
			victim = &rec->seen[i];
	}
	free(victim->key);
	free(victim->ns);
	free(victim->name);
	memset(victim, 0, sizeof(*victim));
	return victim;
}

static void note_failure(struct kube_recorder *rec, const char *what,
			 long status, int err)
{
	size_t i;

	rec->st.failed++;
	for (i = 0; i < STATUS_LOGGED && rec->logged[i]; i++)
		if (rec->logged[i] == status + 1)
			return;
	if (i < STATUS_LOGGED)
		rec->logged[i] = status + 1;
	log_v(4,
	      "event %s failed: HTTP %ld (%d); further failures with this "
	      "status are only counted",
	      what, status, err);
}

static int body_ref(struct buf *b, const struct kube_objref *ref)
{
	int r = buf_puts(b, "\"involvedObject\":{\"kind\":");

	r = r ? r : json_buf_str(b, s(ref->kind));
	if (!r && ref->namespace && *ref->namespace) {
		r = buf_puts(b, ",\"namespace\":");
		r = r ? r : json_buf_str(b, ref->namespace);
	}
	r = r ? r : buf_puts(b, ",\"name\":");
	r = r ? r : json_buf_str(b, s(ref->name));
	r = r ? r : buf_puts(b, ",\"uid\":");
	r = r ? r : json_buf_str(b, s(ref->uid));
	r = r ? r : buf_puts(b, ",\"apiVersion\":");
	r = r ? r : json_buf_str(b, s(ref->api_version));
	if (!r && ref->resource_version) {
		r = buf_puts(b, ",\"resourceVersion\":");
		r = r ? r : json_buf_str(b, ref->resource_version);
	}
	return r ? r : buf_puts(b, "},");
}

static int build_event(struct kube_recorder *rec, struct buf *b,
		       const struct kube_objref *ref, const struct seen *sn,
		       const char *type, const char *reason, const char *msg)
{
	int r = buf_puts(b, "{\"apiVersion\":\"v1\",\"kind\":\"Event\","
			    "\"metadata\":{\"name\":");

	r = r ? r : json_buf_str(b, sn->name);
	r = r ? r : buf_puts(b, ",\"namespace\":");
	r = r ? r : json_buf_str(b, sn->ns);
	r = r ? r : buf_puts(b, "},");
	r = r ? r : body_ref(b, ref);
	r = r ? r : buf_puts(b, "\"reason\":");
	r = r ? r : json_buf_str(b, reason);
	r = r ? r : buf_puts(b, ",\"message\":");
	r = r ? r : json_buf_str(b, msg);
	r = r ? r : buf_puts(b, ",\"type\":");
	r = r ? r : json_buf_str(b, type);
	r = r ? r : buf_puts(b, ",\"source\":{\"component\":");
	r = r ? r : json_buf_str(b, rec->component);
	r = r ? r : buf_puts(b, ",\"host\":");
	r = r ? r : json_buf_str(b, rec->host);
	r = r ? r
	      : buf_printf(b,
			   "},\"firstTimestamp\":\"%s\","
			   "\"lastTimestamp\":\"%s\",\"count\":1}",
			   sn->first_ts, sn->first_ts);
	return r;
}

/* The server asked (429, Retry-After) to hear nothing for a while. */
static int held(const struct kube_recorder *rec)
{
	return clock_mono_ms() < rec->not_before_ms;
}

static void note_overload(struct kube_recorder *rec,
			  const struct kube_resp *resp)
{
	if (resp->status == 429 && resp->retry_after_ms > 0)
		rec->not_before_ms = clock_mono_ms() + resp->retry_after_ms;
}

/* A down or overloaded API server: worth sending again later. */
static int retryable(int r, long status)
{
	return r == -ECONNREFUSED || r == -ETIMEDOUT ||
	       (r == -EIO && (status == 429 || status >= 500));
}

/* Keeps a failed create; when full the oldest is dropped (and counted). */
static void enqueue(struct kube_recorder *rec, const char *path,
		    const char *body)
{
	struct pending *p;

	if (rec->q_len == QUEUE_MAX) {
		p = &rec->q[rec->q_head];
		free(p->path);
		free(p->body);
		rec->q_head = (rec->q_head + 1) % QUEUE_MAX;
		rec->q_len--;
		rec->st.dropped++;
	}
	p = &rec->q[(rec->q_head + rec->q_len) % QUEUE_MAX];
	p->path = strdup(path);
	p->body = strdup(body);
	if (!p->path || !p->body) {
		free(p->path);
		free(p->body);
		rec->st.dropped++;
		return;
	}
	rec->q_len++;
}

void kube_recorder_flush(struct kube_recorder *rec)
{
	while (rec && rec->q_len && !held(rec)) {
		struct pending *p = &rec->q[rec->q_head];
		struct kube_resp resp;
		int r;

		int again;

		kube_resp_init(&resp);
		r = kube_create(rec->c, p->path, p->body, &resp);
		note_overload(rec, &resp);
		again = r != 0 && retryable(r, resp.status);
		if (r == 0)
			rec->st.created++;
		else if (!again)
			note_failure(rec, "create", resp.status, r);
		kube_resp_done(&resp);
		if (again)
			return; /* still away: keep the rest in order */
		free(p->path);
		free(p->body);
		rec->q_head = (rec->q_head + 1) % QUEUE_MAX;
		rec->q_len--;
	}
}

static void create_event(struct kube_recorder *rec, struct seen *sn,
			 const struct kube_objref *ref, const char *type,
			 const char *reason, const char *msg)
{
	struct kube_resp resp;
	char path[512];
	struct buf b;
	int r;

	buf_init(&b, 64u << 10);
	free(sn->name);
	sn->name = NULL;
	timestamp(sn->first_ts, sizeof(sn->first_ts));
	sn->count = 1;
	/* client-go: <object name>.<hex UnixNano>; seq keeps it unique */
	if (asprintf(&sn->name, "%s.%llx", s(ref->name),
		     (unsigned long long)clock_wall_ms() * 1000000ull +
			     (rec->seq++ % 1000000u)) < 0) {
		sn->name = NULL;
		buf_done(&b);
		return;
	}
	r = build_event(rec, &b, ref, sn, type, reason, msg);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", sn->ns);
	kube_resp_init(&resp);
	if (!r && (rec->q_len || held(rec))) {
		/* the flush just failed or the server asked for a pause: queue
		 * behind the others, costing an outage no second request */
		enqueue(rec, path, b.data);
		goto out;
	}
	if (!r) {
		r = kube_create(rec->c, path, b.data, &resp);
		note_overload(rec, &resp);
	}
	if (r == 0)
		rec->st.created++;
	else if (b.data && retryable(r, resp.status))
		enqueue(rec, path, b.data);
	else
		note_failure(rec, "create", resp.status, r);
out:
	kube_resp_done(&resp);
	buf_done(&b);
}

/* Returns -ENOENT when the Event is gone and must be created again. */
static int patch_event(struct kube_recorder *rec, struct seen *sn)
{
	struct kube_resp resp;
	char path[512], ts[32], body[128];
	int r;

	timestamp(ts, sizeof(ts));
	snprintf(body, sizeof(body),
		 "{\"count\":%lld,\"lastTimestamp\":\"%s\"}", sn->count + 1,
		 ts);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events/%s", sn->ns,
		 sn->name);
	if (held(rec)) {
		/* counted here, sent with the next repeat after the pause */
		sn->count++;
		rec->st.deferred++;
		return 0;
	}
	kube_resp_init(&resp);
	r = kube_patch(rec->c, path, KUBE_PATCH_STRATEGIC, body, &resp);
	note_overload(rec, &resp);
	if (r == 0) {
		sn->count++;
		rec->st.patched++;
	} else if (r != -ENOENT) {
		note_failure(rec, "patch", resp.status, r);
	}
	kube_resp_done(&resp);
	return r;
}

static void record(struct kube_recorder *rec, const struct kube_objref *ref,
		   const char *type, const char *reason, const char *msg)
{
	char okey[KEY_MAX], key[KEY_MAX + MSG_MAX + 256];
	struct seen *sn;

	obj_key(ref, okey, sizeof(okey));
	if (!spam_allow(rec, okey)) {
		rec->st.filtered++;
		return;
	}
	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%s", okey, type, reason,
		 msg);
	sn = seen_find(rec, key);
	if (sn && sn->name && clock_mono_ms() - sn->last_ms < CORRELATE_MS) {
		sn->last_ms = clock_mono_ms();
		if (patch_event(rec, sn) != -ENOENT)
			return;
	}
	if (!sn) {
		sn = seen_slot(rec);
		sn->key = strdup(key);
		sn->ns = strdup(event_ns(ref));
		if (!sn->key || !sn->ns) {
			free(sn->key);
			free(sn->ns);
			sn->key = sn->ns = NULL;
			return;
		}
	}
	sn->last_ms = clock_mono_ms();
	create_event(rec, sn, ref, type, reason, msg);
}

void kube_event(struct kube_recorder *rec, const struct kube_objref *ref,
		const char *type, const char *reason, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	if (!rec || !ref || !ref->name)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kube_recorder_flush(rec);
	record(rec, ref, type ? type : KUBE_EVENT_TYPE_NORMAL,
	       reason ? reason : "", msg);
}
