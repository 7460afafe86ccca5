/*
 * kube_yaml - the YAML subset kubeconfig files use, into a lib/json tree.
 *
 * Accepted: block mappings and sequences (including "- key: value" items
 * and sequences at their parent key's indentation, as kubectl writes them),
 * plain, 'single' and "double" quoted scalars, comments, a leading "---",
 * and JSON documents (a flow document starting with '{' goes to json_parse;
 * "{}" and "[]" also work as flow values inside block style). Anchors,
 * tags, block scalars ("|", ">") and multi-line flow values are refused
 * with -EINVAL and a message naming the line.
 *
 * Plain scalars become JSON strings, except null and ~ (JSON null) and
 * true/false (JSON booleans); json_bool accepts both forms anyway.
 *
 * Bounds: KUBE_YAML_MAX_BYTES input, KUBE_YAML_MAX_DEPTH nesting.
 *
 * Ownership: *ret is caller-owned, freed with json_free().
 */
#ifndef CCM_KUBE_YAML_H
#define CCM_KUBE_YAML_H

#include <stddef.h>

#include "lib/json.h"

#define KUBE_YAML_MAX_BYTES (1u << 20)
#define KUBE_YAML_MAX_DEPTH 32

/* 0, -EINVAL (syntax; err names the line) or -E2BIG (a bound). */
int kube_yaml_parse(const char *text, size_t len, struct json **ret, char *err,
		    size_t errlen);

#endif
