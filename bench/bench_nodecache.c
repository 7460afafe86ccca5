/*
 * bench_nodecache - heap bytes one cached Node costs in each worker's Node
 * cache: what the worker's informer extract callback keeps of a
 * kubelet-style Node (bench/nodelist_gen.c, the NodeList bench_sign
 * parses). Prints "name value unit" lines; never asserts anything.
 *
 * The figure is mallinfo2's uordblks (bytes in use, allocator headers and
 * rounding included) after extracting every Node of the list minus before,
 * divided by the node count, with every record kept alive as the cache
 * keeps it. The informer's own store entry (key strings, hash slot) is not
 * included: it is the same for every worker and every record.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/nodelist_gen.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "workers/node_init/ni_model.h"
#include "workers/wk_node.h"

#define NODELIST_BYTES (1u << 20)

typedef int (*extract_fn)(const struct json *obj, void **out);
typedef void (*release_fn)(void *obj);

struct worker_case {
	const char *name;
	extract_fn extract;
	release_fn release;
};

static int route_extract(const struct json *obj, void **out)
{
	return wk_node_extract_route(NULL, obj, out);
}

static int lb_extract(const struct json *obj, void **out)
{
	return wk_node_extract_lb(NULL, obj, out);
}

static int ni_extract(const struct json *obj, void **out)
{
	static struct ni_node_opts o;
	struct ni_node *n = NULL;
	int r;

	/* the default nonECSNodeSelector, as a cloud config without one */
	if (!o.wk.label_keys)
		ni_node_opts_init(&o, "");
	r = ni_node_from_json(obj, &o, &n);
	*out = n;
	return r;
}

static void wk_release(void *obj)
{
	wk_node_free(obj);
}

static void ni_release(void *obj)
{
	ni_node_free(obj);
}

static const struct worker_case cases[] = {
	{"route", route_extract, wk_release},
	{"node_init", ni_extract, ni_release},
	{"service_lb", lb_extract, wk_release},
};

/* Bytes per Node the records of one worker hold; negative errno. */
static long bytes_per_node(const struct worker_case *w,
			   const struct json *items, void **recs)
{
	size_t i, n = json_len(items);
	struct mallinfo2 before, after;
	int r = 0;

	memset(recs, 0, n * sizeof(*recs));
	before = mallinfo2();
	for (i = 0; i < n && r == 0; i++)
		r = w->extract(json_at(items, i), &recs[i]);
	after = mallinfo2();
	for (i = 0; i < n; i++)
		w->release(recs[i]);
	if (r < 0)
		return r;
	return (long)((after.uordblks - before.uordblks) / n);
}

static int run(void)
{
	struct buf text;
	struct json_limits lim = json_default_limits;
	struct json *list = NULL;
	const struct json *items;
	void **recs = NULL;
	int n, r;

	buf_init(&text, 4u << 20);
	n = bench_make_nodelist(&text, NODELIST_BYTES);
	r = n < 0 ? n : 0;
	lim.max_bytes = 16u << 20;
	lim.max_nodes = 4u << 20;
	if (r == 0)
		r = json_parse(text.data, text.len, &lim, &list, NULL, 0);
	items = json_get(list, "items");
	if (r == 0 && (n <= 0 || json_len(items) != (size_t)n))
		r = -EPROTO;
	if (r == 0)
		recs = calloc((size_t)n, sizeof(*recs));
	if (r == 0 && !recs)
		r = -ENOMEM;
	if (r == 0)
		printf("nodecache_nodes %d nodes\n", n);
	for (size_t k = 0; r == 0 && k < sizeof(cases) / sizeof(*cases); k++) {
		long b = bytes_per_node(&cases[k], items, recs);

		if (b < 0)
			r = (int)b;
		else
			printf("nodecache_%s %ld bytes/node\n", cases[k].name,
			       b);
	}
	free(recs);
	json_free(list);
	buf_done(&text);
	return r;
}

int main(void)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = run();
	if (r < 0) {
		fprintf(stderr, "bench_nodecache: failed: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
