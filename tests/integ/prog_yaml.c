/*
 * prog_yaml - prints kube_yaml_parse's tree of each file as one JSON line,
 * for the differential test against PyYAML (tests/integ/test_yaml_diff.py).
 *
 * Usage: prog_yaml FILE... ; per file one line: {"ok": TREE} or
 * {"error": "message"}. Booleans print as JSON booleans; numbers and
 * strings as JSON strings (YAML plain scalars are strings here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_yaml.h"
#include "lib/buf.h"
#include "lib/json.h"

static int dump(struct buf *o, const struct json *v)
{
	int r = 0;

	switch (v->type) {
	case JSON_NULL:
		return buf_puts(o, "null");
	case JSON_BOOL:
		return buf_puts(o, v->boolean ? "true" : "false");
	case JSON_NUMBER:
	case JSON_STRING:
		return json_buf_str(o, v->str);
	case JSON_ARRAY:
	case JSON_OBJECT:
		r = buf_puts(o, v->type == JSON_ARRAY ? "[" : "{");
		for (size_t i = 0; !r && i < v->n; i++) {
			if (i)
				r = buf_puts(o, ",");
			if (!r && v->keys)
				r = json_buf_str(o, v->keys[i]);
			if (!r && v->keys)
				r = buf_puts(o, ":");
			if (!r)
				r = dump(o, v->items[i]);
		}
		return r ? r : buf_puts(o, v->type == JSON_ARRAY ? "]" : "}");
	}
	return -EINVAL;
}

static int one(const char *path)
{
	static char text[KUBE_YAML_MAX_BYTES + 1];
	struct json *root = NULL;
	char err[256];
	struct buf o;
	FILE *f = fopen(path, "rb");
	size_t n;
	int r;

	if (!f)
		return -errno;
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	buf_init(&o, 64u << 20);
	r = kube_yaml_parse(text, n, &root, err, sizeof(err));
	if (r < 0) {
		r = buf_puts(&o, "{\"error\":");
		if (!r)
			r = json_buf_str(&o, err[0] ? err : strerror(-r));
	} else {
		r = buf_puts(&o, "{\"ok\":");
		if (!r)
			r = dump(&o, root);
	}
	if (!r)
		r = buf_puts(&o, "}");
	if (!r)
		printf("%s\n", o.data);
	json_free(root);
	buf_done(&o);
	return r;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (one(argv[i]) < 0) {
			fprintf(stderr, "prog_yaml: %s: failed\n", argv[i]);
			return 1;
		}
	return 0;
}
