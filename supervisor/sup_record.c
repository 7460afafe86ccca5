/*
 * sup_record - leader record formats; see sup_record.h.
 */
#include "supervisor/sup_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"

static void split(int64_t wall_ms, struct tm *tm, long *ms)
{
	time_t t = (time_t)(wall_ms / 1000);

	*ms = (long)(wall_ms % 1000);
	gmtime_r(&t, tm);
}

void sup_time_micro(int64_t wall_ms, char *out, size_t len)
{
	struct tm tm;
	long ms;

	split(wall_ms, &tm, &ms);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ms * 1000);
}

void sup_time_rfc3339(int64_t wall_ms, char *out, size_t len)
{
	struct tm tm;
	long ms;

	split(wall_ms, &tm, &ms);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int parse_zone(const char *p, long *off_s)
{
	int hh, mm;

	*off_s = 0;
	if (p[0] == 'Z' && p[1] == 0)
		return 0;
	if ((p[0] != '+' && p[0] != '-') || strlen(p) != 6 ||
	    sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
		return -EINVAL;
	*off_s = (hh * 3600L + mm * 60L) * (p[0] == '-' ? -1 : 1);
	return 0;
}

int sup_time_parse(const char *s, int64_t *wall_ms)
{
	struct tm tm;
	const char *p;
	long frac_ms = 0, off_s, scale = 100;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -EINVAL;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac_ms += (*p - '0') * scale;
	}
	if (parse_zone(p, &off_s) < 0)
		return -EINVAL;
	*wall_ms = ((int64_t)timegm(&tm) - off_s) * 1000 + frac_ms;
	return 0;
}

static int64_t time_field(const struct json *o, const char *key)
{
	const char *v = json_str(json_get(o, key));
	int64_t ms = 0;

	if (v == NULL || sup_time_parse(v, &ms) < 0)
		return 0;
	return ms;
}

static void from_object(const struct json *o, const char *trans_key,
			struct sup_record *r)
{
	const char *h = json_str(json_get(o, "holderIdentity"));

	memset(r, 0, sizeof(*r));
	snprintf(r->holder, sizeof(r->holder), "%s", h ? h : "");
	(void)json_int(json_get(o, "leaseDurationSeconds"), &r->duration_s);
	(void)json_int(json_get(o, trans_key), &r->transitions);
	r->acquire_ms = time_field(o, "acquireTime");
	r->renew_ms = time_field(o, "renewTime");
}

void sup_record_from_lease(const struct json *lease, struct sup_record *r)
{
	from_object(json_get(lease, "spec"), "leaseTransitions", r);
}

int sup_record_from_annotation(const char *text, struct sup_record *r)
{
	struct json *o = NULL;
	char err[128];

	memset(r, 0, sizeof(*r));
	if (json_parse(text, strlen(text), &json_default_limits, &o, err,
		       sizeof(err)) < 0)
		return -EINVAL;
	if (o->type != JSON_OBJECT) {
		json_free(o);
		return -EINVAL;
	}
	from_object(o, "leaderTransitions", r);
	json_free(o);
	return 0;
}

void sup_record_key(const struct sup_record *r, char *out, size_t len)
{
	snprintf(out, len, "%s|%lld|%lld|%lld|%lld", r->holder, r->duration_s,
		 (long long)r->acquire_ms, (long long)r->renew_ms,
		 r->transitions);
}

static int put_time(struct buf *b, const char *key, int64_t ms, int micro)
{
	char t[40];

	if (ms == 0)
		return buf_printf(b, ",\"%s\":null", key);
	if (micro)
		sup_time_micro(ms, t, sizeof(t));
	else
		sup_time_rfc3339(ms, t, sizeof(t));
	return buf_printf(b, ",\"%s\":\"%s\"", key, t);
}

static int put_record(struct buf *b, const struct sup_record *r, int micro,
		      const char *trans_key)
{
	int e = 0;

	e |= buf_puts(b, "{\"holderIdentity\":");
	e |= json_buf_str(b, r->holder);
	e |= buf_printf(b, ",\"leaseDurationSeconds\":%lld", r->duration_s);
	e |= put_time(b, "acquireTime", r->acquire_ms, micro);
	e |= put_time(b, "renewTime", r->renew_ms, micro);
	e |= buf_printf(b, ",\"%s\":%lld}", trans_key, r->transitions);
	return e ? -E2BIG : 0;
}

int sup_record_lease_spec(struct buf *b, const struct sup_record *r)
{
	return put_record(b, r, 1, "leaseTransitions");
}

int sup_record_annotation(struct buf *b, const struct sup_record *r)
{
	return put_record(b, r, 0, "leaderTransitions");
}
