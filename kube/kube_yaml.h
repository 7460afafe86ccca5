/*
 * kube_yaml - the YAML kubectl accepts in a kubeconfig, into a lib/json tree.
 *
 * Accepted: block mappings and sequences (including "- key: value" items
 * and sequences at their parent key's indentation, as kubectl writes them),
 * flow mappings and sequences ({a: b, c: [d, e]}, over several lines too),
 * plain scalars (multi-line ones fold like YAML's), 'single' and "double"
 * quoted scalars (with YAML's escapes and line folding), comments, one
 * document with optional "---" / "..." markers, and JSON.
 *
 * The answers follow client-go (sigs.k8s.io/yaml over go-yaml v2) where a
 * kubeconfig can tell: a duplicate key takes the last value, "a: b: c" and
 * tabs outside quotes are refused. Anchors, aliases, tags, block scalars
 * ("|", ">"), complex keys ("?"), null keys and a string containing NUL
 * (it would be cut short in C) are refused with -EINVAL and a message
 * naming the line and column.
 *
 * Plain scalars become JSON strings, except the YAML 1.1 nulls ("", ~,
 * null) and booleans (true/false/yes/no/on/off in their three spellings),
 * which become JSON null and JSON booleans; a boolean keeps its text in
 * ->str so a string field can take it as written, as client-go does.
 * Boolean keys become "true"/"false". JSON numbers stay JSON_NUMBER.
 *
 * Bounds: KUBE_YAML_MAX_BYTES input, KUBE_YAML_MAX_DEPTH nesting,
 * KUBE_YAML_MAX_NODES values, keys of at most KUBE_YAML_MAX_KEY bytes.
 *
 * Ownership: *ret is caller-owned, freed with json_free().
 */
#ifndef CCM_KUBE_YAML_H
#define CCM_KUBE_YAML_H

#include <stddef.h>

#include "lib/json.h"

#define KUBE_YAML_MAX_BYTES (1u << 20)
#define KUBE_YAML_MAX_DEPTH 32
#define KUBE_YAML_MAX_NODES 20000u
#define KUBE_YAML_MAX_KEY   1024u

/* 0, -EINVAL (syntax; err names the line) or -E2BIG (a bound). */
int kube_yaml_parse(const char *text, size_t len, struct json **ret, char *err,
		    size_t errlen);

#endif
