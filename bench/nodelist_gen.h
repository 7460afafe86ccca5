/*
 * nodelist_gen - kubelet-style Node JSON for the C benchmarks: the 1 MiB
 * NodeList bench_sign parses is also what bench_nodecache extracts, so the
 * two measure the same objects.
 */
#ifndef CCM_BENCH_NODELIST_GEN_H
#define CCM_BENCH_NODELIST_GEN_H

#include <stddef.h>

#include "lib/buf.h"

/* Appends Node number i (a 1.20 kubelet's labels, annotations, the five
 * conditions, addresses, capacity and two images); 0 or negative errno. */
int bench_append_node(struct buf *b, int i);
/* A NodeList of at least `bytes` bytes; returns the node count or a
 * negative errno. */
int bench_make_nodelist(struct buf *b, size_t bytes);

#endif
