/*
 * ali_slb_domext - domain extensions (SNI certificates) of CLB HTTPS
 * listeners: DescribeDomainExtensions, CreateDomainExtension,
 * SetDomainExtensionAttribute, DeleteDomainExtension.
 */
#include <errno.h>
#include <stdlib.h>

#include "alicloud/ali_json.h"
#include "alicloud/ali_slb.h"

static int call(struct ali_client *c, const char *action, struct ali_params *p,
		struct json **resp, struct ali_error *err)
{
	int r = ali_client_call(c, ALI_SLB, action, p, resp, err);

	ali_params_done(p);
	return r;
}

static int parse(const struct json *arr, struct ali_domext **out, size_t *n)
{
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		const struct json *e = json_at(arr, i);
		struct ali_domext *x = ali_grow(out, n, sizeof(*x));

		if (!x)
			return -ENOMEM;
		ali_jstr(e, "DomainExtensionId", x->id, sizeof(x->id));
		ali_jstr(e, "Domain", x->domain, sizeof(x->domain));
		ali_jstr(e, "ServerCertificateId", x->cert_id,
			 sizeof(x->cert_id));
	}
	return 0;
}

int ali_slb_describe_domexts(struct ali_client *c, const char *lb_id, int port,
			     struct ali_domext **out, size_t *n,
			     struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	*out = NULL;
	*n = 0;
	ali_params_init(&p);
	ali_params_set(&p, "LoadBalancerId", lb_id);
	ali_params_set_int(&p, "ListenerPort", port);
	r = call(c, "DescribeDomainExtensions", &p, &resp, err);
	if (r == 0)
		r = parse(
			ali_jlist(resp, "DomainExtensions", "DomainExtension"),
			out, n);
	json_free(resp);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}

int ali_slb_create_domext(struct ali_client *c, const char *lb_id, int port,
			  const char *domain, const char *cert_id,
			  char id_out[64], struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	id_out[0] = '\0';
	ali_params_init(&p);
	ali_params_set(&p, "LoadBalancerId", lb_id);
	ali_params_set_int(&p, "ListenerPort", port);
	ali_params_set(&p, "Domain", domain);
	ali_params_set(&p, "ServerCertificateId", cert_id);
	r = call(c, "CreateDomainExtension", &p, &resp, err);
	if (r == 0)
		ali_jstr(resp, "DomainExtensionId", id_out, 64);
	json_free(resp);
	return r;
}

int ali_slb_set_domext(struct ali_client *c, const char *id,
		       const char *cert_id, struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	ali_params_init(&p);
	ali_params_set(&p, "DomainExtensionId", id);
	ali_params_set(&p, "ServerCertificateId", cert_id);
	r = call(c, "SetDomainExtensionAttribute", &p, &resp, err);
	json_free(resp);
	return r;
}

int ali_slb_delete_domext(struct ali_client *c, const char *id,
			  struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	ali_params_init(&p);
	ali_params_set(&p, "DomainExtensionId", id);
	r = call(c, "DeleteDomainExtension", &p, &resp, err);
	json_free(resp);
	return r;
}
