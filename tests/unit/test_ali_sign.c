/* Signature V1 against every vector of alicloud-openapi.md §1.5, plus the
 * percent-encoder's edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alicloud/ali_sign.h"

static void set_pairs(struct ali_params *p, const char *const *kv)
{
	for (; kv[0]; kv += 2)
		ali_params_set(p, kv[0], kv[1]);
}

static void check_sig(const char *secret, const char *const *kv,
		      const char *want)
{
	struct ali_params p;
	char sig[ALI_SIG_MAX];

	ali_params_init(&p);
	ali_params_set(&p, "Format", "JSON");
	ali_params_set(&p, "SignatureMethod", "HMAC-SHA1");
	ali_params_set(&p, "SignatureVersion", "1.0");
	set_pairs(&p, kv);
	assert_int_equal(p.err, 0);
	assert_int_equal(ali_sign("GET", &p, secret, sig), 0);
	assert_string_equal(sig, want);
	ali_params_done(&p);
}

static const char *const v1[] = {"AccessKeyId",
				 "testid",
				 "Action",
				 "DescribeRegions",
				 "Format",
				 "XML",
				 "SignatureNonce",
				 "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
				 "Timestamp",
				 "2016-02-23T12:46:24Z",
				 "Version",
				 "2014-05-26",
				 NULL};

static void test_v1(void **state)
{
	(void)state;
	check_sig("testsecret", v1, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
}

static void test_v1_strings(void **state)
{
	struct ali_params p;
	struct buf canon, sts;

	(void)state;
	ali_params_init(&p);
	ali_params_set(&p, "SignatureMethod", "HMAC-SHA1");
	ali_params_set(&p, "SignatureVersion", "1.0");
	set_pairs(&p, v1);
	ali_params_set(&p, "Signature", "ignored");
	buf_init(&canon, 1 << 16);
	buf_init(&sts, 1 << 16);
	assert_int_equal(ali_canonical_query(&p, &canon), 0);
	assert_string_equal(
		canon.data,
		"AccessKeyId=testid&Action=DescribeRegions&Format=XML&"
		"SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-"
		"a94f-4e0ad82fd6cf&SignatureVersion=1.0&Timestamp=2016-02-"
		"23T12%3A46%3A24Z&Version=2014-05-26");
	assert_int_equal(ali_string_to_sign("GET", &p, &sts), 0);
	assert_string_equal(
		sts.data,
		"GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%"
		"26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%"
		"26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%"
		"26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%"
		"253A46%253A24Z%26Version%3D2014-05-26");
	buf_done(&canon);
	buf_done(&sts);
	ali_params_done(&p);
}

static void test_v1b(void **state)
{
	static const char *const kv[] = {"AccessKeyId",
					 "testid",
					 "Action",
					 "DescribeRegions",
					 "Format",
					 "XML",
					 "SignatureNonce",
					 "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
					 "TimeStamp",
					 "2016-02-23T12:46:24Z",
					 "Version",
					 "2014-05-26",
					 NULL};

	(void)state;
	check_sig("testsecret", kv, "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
}

static void test_v2(void **state)
{
	static const char *const kv[] = {
		"AccessKeyId",
		"testid",
		"Action",
		"DescribeLoadBalancers",
		"PageNumber",
		"1",
		"PageSize",
		"50",
		"RegionId",
		"cn-hangzhou",
		"SignatureNonce",
		"nonce-0001",
		"Tags",
		"[{\"TagKey\":\"kubernetes.do.not.delete\",\"TagValue\":\"a "
		"b*c~d\"}]",
		"Timestamp",
		"2024-01-02T03:04:05Z",
		"Version",
		"2014-05-15",
		NULL};

	(void)state;
	check_sig("testsecret", kv, "6lE9RISBClKn4EgsxXjkKx8bZU8=");
}

static void test_v4_sts(void **state)
{
	static const char *const kv[] = {"AccessKeyId",
					 "STS.NTestKeyId",
					 "Action",
					 "DescribeRouteTableList",
					 "PageNumber",
					 "1",
					 "PageSize",
					 "50",
					 "RegionId",
					 "cn-beijing",
					 "SecurityToken",
					 "CAIS+token/with=chars",
					 "SignatureNonce",
					 "nonce-0004",
					 "Timestamp",
					 "2024-01-02T03:04:05Z",
					 "Version",
					 "2016-04-28",
					 "VpcId",
					 "vpc-2zeexample",
					 NULL};

	(void)state;
	check_sig("stsSecret", kv, "pI1AVQz6VJfqApC8v1m59XPAycY=");
}

static void test_v6_encoding(void **state)
{
	static const char *const kv[] = {"AccessKeyId",
					 "testid",
					 "Action",
					 "SetLoadBalancerName",
					 "LoadBalancerId",
					 "lb-bp1example",
					 "LoadBalancerName",
					 "a b+c*d~e!f'g(h)i/j:k@l%m&n=o",
					 "RegionId",
					 "cn-hangzhou",
					 "SignatureNonce",
					 "nonce-0006",
					 "Timestamp",
					 "2024-01-02T03:04:05Z",
					 "Version",
					 "2014-05-15",
					 NULL};

	(void)state;
	check_sig("testsecret", kv, "4K/SEJTGAcDeGNdmRlLcSp8hZts=");
}

static void test_v8_repeat_list(void **state)
{
	struct ali_params p;
	char sig[ALI_SIG_MAX], v[8];
	size_t i;

	(void)state;
	ali_params_init(&p);
	ali_params_set(&p, "Format", "JSON");
	ali_params_set(&p, "SignatureMethod", "HMAC-SHA1");
	ali_params_set(&p, "SignatureVersion", "1.0");
	ali_params_set(&p, "AccessKeyId", "testid");
	ali_params_set(&p, "Action", "TagResources");
	ali_params_set(&p, "RegionId", "cn-hangzhou");
	ali_params_set(&p, "ResourceId.1", "lb-bp1example");
	ali_params_set(&p, "ResourceType", "instance");
	ali_params_set(&p, "SignatureNonce", "nonce-0008");
	for (i = 0; i < 10; i++) {
		snprintf(v, sizeof(v), "k%zu", i + 1);
		ali_params_set_nth(&p, "Tag", i, ".Key", v);
		snprintf(v, sizeof(v), "v%zu", i + 1);
		ali_params_set_nth(&p, "Tag", i, ".Value", v);
	}
	ali_params_set(&p, "Timestamp", "2024-01-02T03:04:05Z");
	ali_params_set(&p, "Version", "2014-05-15");
	assert_int_equal(p.err, 0);
	assert_int_equal(ali_sign("GET", &p, "testsecret", sig), 0);
	assert_string_equal(sig, "wjlJdzdY7zRFz+kXdFvlgJ8y5xg=");
	ali_params_done(&p);
}

static void check_enc(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b, 1 << 12);
	assert_int_equal(ali_pct_encode(&b, in), 0);
	assert_string_equal(b.data ? b.data : "", want);
	buf_done(&b);
}

static void test_encoder(void **state)
{
	(void)state;
	check_enc("a b+c*d~e!f'g(h)i/j:k@l%m&n=o-_.\xe8\x8a\x82\xe7\x82\xb9",
		  "a%20b%2Bc%2Ad~e%21f%27g%28h%29i%2Fj%3Ak%40l%25m%26n%3Do-_."
		  "%E8%8A%82%E7%82%B9");
	check_enc("", "");
	check_enc("AZaz09-_.~", "AZaz09-_.~");
	check_enc("\x7f\xff\x01", "%7F%FF%01");
	check_enc("é", "%C3%A9");
	check_enc("[]{}\"?#,;$", "%5B%5D%7B%7D%22%3F%23%2C%3B%24");
}

static void test_empty_value_signed(void **state)
{
	struct ali_params p;
	struct buf canon;

	(void)state;
	ali_params_init(&p);
	ali_params_set(&p, "SignatureType", "");
	ali_params_set(&p, "Action", "X");
	buf_init(&canon, 1 << 12);
	assert_int_equal(ali_canonical_query(&p, &canon), 0);
	assert_string_equal(canon.data, "Action=X&SignatureType=");
	buf_done(&canon);
	ali_params_done(&p);
}

static void test_sign_request_fresh_nonce(void **state)
{
	struct ali_credential cred = {.id = "id", .secret = "s", .token = ""};
	struct ali_params p;
	struct buf b1, b2;
	char n1[64];

	(void)state;
	ali_params_init(&p);
	ali_params_set(&p, "Action", "DescribeVpcs");
	ali_params_set(&p, "SecurityToken", "stale");
	buf_init(&b1, 1 << 14);
	buf_init(&b2, 1 << 14);
	/* 2024-01-02T03:04:05Z */
	assert_int_equal(
		ali_sign_request(&p, "POST", &cred, 1704164645000LL, &b1), 0);
	snprintf(n1, sizeof(n1), "%s", ali_params_get(&p, "SignatureNonce"));
	assert_int_equal(strlen(n1), 32);
	assert_null(ali_params_get(&p, "SecurityToken"));
	assert_string_equal(ali_params_get(&p, "Timestamp"),
			    "2024-01-02T03:04:05Z");
	assert_non_null(strstr(b1.data, "&Signature="));
	assert_int_equal(
		ali_sign_request(&p, "POST", &cred, 1704164645000LL, &b2), 0);
	assert_string_not_equal(n1, ali_params_get(&p, "SignatureNonce"));
	buf_done(&b1);
	buf_done(&b2);
	ali_params_done(&p);
}

static void test_sts_token_param(void **state)
{
	struct ali_credential cred = {
		.id = "STS.x", .secret = "s", .token = "tok"};
	struct ali_params p;
	struct buf b;

	(void)state;
	ali_params_init(&p);
	buf_init(&b, 1 << 14);
	assert_int_equal(ali_sign_request(&p, "POST", &cred, 0, &b), 0);
	assert_string_equal(ali_params_get(&p, "SecurityToken"), "tok");
	assert_string_equal(ali_params_get(&p, "Timestamp"),
			    "1970-01-01T00:00:00Z");
	assert_string_equal(ali_params_get(&p, "Format"), "JSON");
	buf_done(&b);
	ali_params_done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1),
		cmocka_unit_test(test_v1_strings),
		cmocka_unit_test(test_v1b),
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_v4_sts),
		cmocka_unit_test(test_v6_encoding),
		cmocka_unit_test(test_v8_repeat_list),
		cmocka_unit_test(test_encoder),
		cmocka_unit_test(test_empty_value_signed),
		cmocka_unit_test(test_sign_request_fresh_nonce),
		cmocka_unit_test(test_sts_token_param),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
