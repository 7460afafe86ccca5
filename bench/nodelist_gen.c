/*
 * nodelist_gen - the kubelet-style NodeList the C benchmarks parse and
 * extract (shared by bench_sign and bench_nodecache).
 */
#include "bench/nodelist_gen.h"

#include <stdio.h>

/* One Node as a 1.20 kubelet reports it (labels, annotations, the usual
 * conditions, addresses, capacity and a few images). */
int bench_append_node(struct buf *b, int i)
{
	static const char *const conds[] = {"NetworkUnavailable",
					    "MemoryPressure", "DiskPressure",
					    "PIDPressure", "Ready"};
	int r = buf_printf(
		b,
		"{\"metadata\":{\"name\":\"cn-hangzhou.192.168.%d.%d\","
		"\"uid\":\"5b2c%04x-1f0e-4d6a-9c1b-00163e%06x\","
		"\"resourceVersion\":\"%d\",\"creationTimestamp\":"
		"\"2024-01-01T00:00:00Z\",\"labels\":{"
		"\"beta.kubernetes.io/arch\":\"amd64\","
		"\"beta.kubernetes.io/os\":\"linux\","
		"\"kubernetes.io/hostname\":\"node-%d\","
		"\"node.kubernetes.io/instance-type\":\"ecs.g6.xlarge\","
		"\"topology.kubernetes.io/region\":\"cn-hangzhou\","
		"\"topology.kubernetes.io/zone\":\"cn-hangzhou-h\"},"
		"\"annotations\":{\"node.alpha.kubernetes.io/ttl\":\"0\","
		"\"volumes.kubernetes.io/controller-managed-attach-detach\":"
		"\"true\"}},\"spec\":{\"podCIDR\":\"10.%d.%d.0/24\","
		"\"podCIDRs\":[\"10.%d.%d.0/24\"],\"providerID\":"
		"\"cn-hangzhou.i-bp1%017d\"},\"status\":{\"capacity\":{"
		"\"cpu\":\"4\",\"memory\":\"16244236Ki\",\"pods\":\"110\"},"
		"\"allocatable\":{\"cpu\":\"3900m\",\"memory\":\"14041612Ki\","
		"\"pods\":\"110\"},\"conditions\":[",
		i / 250, i % 250 + 2, i, i, 100000 + i, i, 244 + i / 256,
		i % 256, 244 + i / 256, i % 256, i);

	for (size_t c = 0; r == 0 && c < sizeof(conds) / sizeof(*conds); c++)
		r = buf_printf(
			b,
			"%s{\"type\":\"%s\",\"status\":\"%s\","
			"\"lastHeartbeatTime\":\"2024-01-01T00:10:00Z\","
			"\"lastTransitionTime\":\"2024-01-01T00:00:00Z\","
			"\"reason\":\"Kubelet%s\",\"message\":\"kubelet "
			"reports %s\"}",
			c ? "," : "", conds[c], c == 4 ? "True" : "False",
			conds[c], conds[c]);
	if (r == 0)
		r = buf_printf(
			b,
			"],\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
			"\"192.168.%d.%d\"},{\"type\":\"Hostname\",\"address\":"
			"\"node-%d\"}],\"nodeInfo\":{\"kubeletVersion\":"
			"\"v1.20.2\",\"osImage\":\"Debian GNU/Linux 12\","
			"\"containerRuntimeVersion\":\"containerd://1.6.20\"},"
			"\"images\":[{\"names\":[\"registry.cn-hangzhou."
			"aliyuncs.com/acs/pause:3.5\"],\"sizeBytes\":301416},"
			"{\"names\":[\"docker.io/library/nginx:1.25\"],"
			"\"sizeBytes\":70541222}]}}",
			i / 250, i % 250 + 2, i);
	return r;
}

/* A NodeList of at least `bytes` bytes; returns the node count. */
int bench_make_nodelist(struct buf *b, size_t bytes)
{
	int n = 0, r;

	r = buf_puts(b, "{\"kind\":\"NodeList\",\"apiVersion\":\"v1\","
			"\"metadata\":{\"resourceVersion\":\"99999\"},"
			"\"items\":[");
	while (r == 0 && b->len < bytes && n < 100000) {
		if (n)
			r = buf_puts(b, ",");
		if (r == 0)
			r = bench_append_node(b, n++);
	}
	if (r == 0)
		r = buf_puts(b, "]}");
	return r ? r : n;
}
