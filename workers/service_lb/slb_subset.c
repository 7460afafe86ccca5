#include "workers/service_lb/slb_subset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct cand {
	size_t i;
	int zone; /* index into the sorted zone names */
	int ready;
	int others;
	uint64_t h;
};

int slb_subset_size(const struct slb_sub_size_in *in, int *full)
{
	long long cap, k, f;
	int s = in->services > 0 ? in->services : 1;

	f = in->eligible < in->backends_per_lb ? in->eligible
					       : in->backends_per_lb;
	if (f < 0)
		f = 0;
	*full = (int)f;
	cap = (long long)in->eligible * in->lbs_per_instance - in->fixed;
	if (cap < 0)
		cap = 0;
	if ((long long)s * f <= cap)
		return (int)f;
	k = cap / s;
	if (k < SLB_SUBSET_FLOOR)
		k = SLB_SUBSET_FLOOR;
	return (int)(k < f ? k : f);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t slb_subset_hash(const char *uid, const char *node)
{
	uint64_t h = fnv(1469598103934665603ULL, uid);

	h = fnv(h ^ 0x2f, "/");
	return mix(fnv(h, node));
}

/* Best first: Ready, fewest other CLBs, highest hash. */
static int cand_cmp(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;

	if (a->zone != b->zone)
		return a->zone < b->zone ? -1 : 1;
	if (a->ready != b->ready)
		return a->ready ? -1 : 1;
	if (a->others != b->others)
		return a->others < b->others ? -1 : 1;
	if (a->h != b->h)
		return a->h > b->h ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

struct work {
	const char **zones;
	size_t n_zones;
	uint64_t *zone_h; /* breaks ties between zones per Service */
	size_t *count;	  /* members per zone */
	struct cand *c;	  /* sorted by zone, then best first */
	size_t n_c;
	size_t *lo, *hi; /* per zone: [lo, hi) of c not yet taken/left */
};

static const char *zone_of(const struct slb_sub_node *n)
{
	return n->zone ? n->zone : "";
}

static int zone_index(const struct work *w, const char *z)
{
	const char **p =
		bsearch(&z, w->zones, w->n_zones, sizeof(*w->zones), str_cmp);

	return (int)(p - w->zones);
}

static int work_init(struct work *w, const char *uid,
		     const struct slb_sub_node *nodes, size_t n)
{
	size_t i, k;

	memset(w, 0, sizeof(*w));
	w->zones = calloc(n + 1, sizeof(*w->zones));
	w->zone_h = calloc(n + 1, sizeof(*w->zone_h));
	w->count = calloc(n + 1, sizeof(*w->count));
	w->lo = calloc(n + 1, sizeof(*w->lo));
	w->hi = calloc(n + 1, sizeof(*w->hi));
	w->c = calloc(n + 1, sizeof(*w->c));
	if (!w->zones || !w->zone_h || !w->count || !w->lo || !w->hi || !w->c)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		w->zones[i] = zone_of(&nodes[i]);
	qsort(w->zones, n, sizeof(*w->zones), str_cmp);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || strcmp(w->zones[k - 1], w->zones[i]) != 0)
			w->zones[k++] = w->zones[i];
	w->n_zones = k;
	for (i = 0; i < k; i++)
		w->zone_h[i] = slb_subset_hash(uid, w->zones[i]);
	return 0;
}

static void work_done(struct work *w)
{
	free(w->zones);
	free(w->zone_h);
	free(w->count);
	free(w->lo);
	free(w->hi);
	free(w->c);
}

/* Candidates (want current members, or free non-members) sorted by zone
 * then best first, with each zone's range. */
static void load_cands(struct work *w, const char *uid,
		       const struct slb_sub_node *nodes, size_t n, int members,
		       int max, const unsigned char *chosen)
{
	size_t i, z;

	w->n_c = 0;
	for (i = 0; i < n; i++) {
		struct cand *c;

		if (nodes[i].others >= max)
			continue;
		if (members ? !nodes[i].current : chosen[i])
			continue;
		c = &w->c[w->n_c++];
		c->i = i;
		c->zone = zone_index(w, zone_of(&nodes[i]));
		c->ready = nodes[i].ready;
		c->others = nodes[i].others;
		c->h = slb_subset_hash(uid, nodes[i].name);
	}
	qsort(w->c, w->n_c, sizeof(*w->c), cand_cmp);
	for (z = 0; z < w->n_zones; z++)
		w->lo[z] = w->hi[z] = 0;
	for (i = w->n_c; i-- > 0;)
		w->lo[w->c[i].zone] = i;
	for (i = 0; i < w->n_c; i++)
		w->hi[w->c[i].zone] = i + 1;
}

/* Is zone z a better pick than zone b? Ties go by a per-Service hash so
 * no zone always gets the odd member. */
static int zone_better(const struct work *w, size_t z, size_t b, int most)
{
	if (w->count[z] != w->count[b])
		return most ? w->count[z] > w->count[b]
			    : w->count[z] < w->count[b];
	return w->zone_h[z] > w->zone_h[b];
}

/* The zone to take from (fewest members) or to drop from (most). */
static int pick_zone(const struct work *w, int most)
{
	size_t z;
	int best = -1;

	for (z = 0; z < w->n_zones; z++)
		if (w->lo[z] < w->hi[z] &&
		    (best < 0 || zone_better(w, z, (size_t)best, most)))
			best = (int)z;
	return best;
}

int slb_subset_pick(const char *uid, const struct slb_sub_node *nodes, size_t n,
		    int size, int max_per_instance, unsigned char *chosen)
{
	struct work w;
	size_t i;
	int have = 0, z, r;

	memset(chosen, 0, n);
	r = work_init(&w, uid, nodes, n);
	if (r < 0)
		goto out;
	/* keep the valid current members */
	load_cands(&w, uid, nodes, n, 1, max_per_instance, chosen);
	for (i = 0; i < w.n_c; i++) {
		chosen[w.c[i].i] = 1;
		w.count[w.c[i].zone]++;
		have++;
	}
	while (have > size && (z = pick_zone(&w, 1)) >= 0) {
		size_t last = --w.hi[z];

		chosen[w.c[last].i] = 0;
		w.count[z]--;
		have--;
	}
	/* fill the vacancies from the free non-members */
	load_cands(&w, uid, nodes, n, 0, max_per_instance, chosen);
	while (have < size && (z = pick_zone(&w, 0)) >= 0) {
		chosen[w.c[w.lo[z]++].i] = 1;
		w.count[z]++;
		have++;
	}
	r = have;
out:
	work_done(&w);
	return r;
}
