/*
 * kube_store - the informer's hash table of items keyed by namespace/name.
 *
 * Entries own copies of their strings and the controller's obj (freed with
 * the free_obj callback passed to kube_entry_free). gen marks entries seen
 * by the current LIST so a relist can sweep the ones that vanished.
 *
 * Ownership: the store owns entries put into it; kube_store_take and
 * kube_store_sweep hand them back to the caller.
 */
#ifndef CCM_KUBE_STORE_H
#define CCM_KUBE_STORE_H

#include <stddef.h>

#include "kube/kube_informer.h"

struct kube_entry {
	struct kube_item it;
	struct kube_entry *next;
	unsigned gen;
	unsigned hash;
};

struct kube_store;

typedef void (*kube_free_obj_fn)(void *ctx, void *obj);

int kube_store_new(struct kube_store **ret);
void kube_store_free(struct kube_store *s, kube_free_obj_fn fn, void *ctx);

int kube_entry_new(const char *ns, const char *name, const char *uid,
		   const char *rv, void *obj, struct kube_entry **ret);
void kube_entry_free(struct kube_entry *e, kube_free_obj_fn fn, void *ctx);

struct kube_entry *kube_store_find(const struct kube_store *s, const char *ns,
				   const char *name);
/* Inserts e; an entry with the same key must have been taken first. */
int kube_store_put(struct kube_store *s, struct kube_entry *e);
struct kube_entry *kube_store_take(struct kube_store *s, const char *ns,
				   const char *name);
/* Removes every entry whose gen differs; returns them as a list (next). */
struct kube_entry *kube_store_sweep(struct kube_store *s, unsigned gen);
size_t kube_store_len(const struct kube_store *s);
int kube_store_foreach(const struct kube_store *s,
		       int (*cb)(void *ctx, const struct kube_item *it),
		       void *ctx);

#endif
