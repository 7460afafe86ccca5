/*
 * ali_rate - pacing of calls to one Alibaba Cloud product, per API action.
 *
 * Alibaba Cloud throttles per account and per API action, and the account's
 * budget is shared with every other tool using it, so no fixed client rate
 * is right. Each action gets its own budget that adapts (AIMD):
 *  - it starts at ALI_RATE_START_FRAC of the ceiling: probing above a limit
 *    costs throttled calls that other users of the account pay for too;
 *  - each successful call adds a fixed step: 1/ALI_RATE_AI_DIV of the rate
 *    at which the action was last throttled (of the ceiling before that).
 *    Scaling the step to the limit found makes the cost of probing the same
 *    at 0.5 and at 50 calls/s: after a cut to half, ALI_RATE_AI_DIV / 2
 *    successes climb back to the old limit, so about one call in
 *    ALI_RATE_AI_DIV / 2 is throttled at steady state (~5 %). Above that
 *    old limit the step grows with the rate, so a budget that was freed
 *    elsewhere in the account is found again;
 *  - a Throttling* answer halves it, never below ALI_RATE_FLOOR (nor the
 *    ceiling, when that is lower): a call is tried up to 5 times, and at a
 *    slower pace its retries would hold the worker for half a minute
 *    while the cloud's per-API limits are well above it (the Quota Center
 *    shows them as e.g. 200 calls per 60 s). It also
 *    empties the action's bucket (the server's is empty too). Calls let
 *    through before the last cut were sent at the old rate, so their
 *    rejections do not cut again: a throttle cuts only when a token was
 *    taken since the last cut and ALI_RATE_HOLD_MS passed (one burst of
 *    concurrent rejections counts once).
 * The product's configured rate (this worker's share of --*-api-qps) is a
 * ceiling for each action and, through a product-wide bucket, for the sum.
 * A ceiling <= 0 means unlimited: no pacing and no adaptation.
 *
 * Times are CLOCK_MONOTONIC ms passed in by the caller, so the arithmetic is
 * testable. Ownership: embedded by the user; no allocation.
 */
#ifndef CCM_ALI_RATE_H
#define CCM_ALI_RATE_H

#include <stdint.h>

#define ALI_RATE_START_FRAC  0.5
#define ALI_RATE_AI_DIV	     40
#define ALI_RATE_FLOOR	     1.0
#define ALI_RATE_HOLD_MS     200
#define ALI_RATE_MAX_ACTIONS 48
#define ALI_RATE_ACTION_MAX  64

struct ali_bucket {
	double rate; /* calls per second; <= 0 means unlimited */
	double burst;
	double tokens;
	int64_t last_ms;
};

void ali_bucket_init(struct ali_bucket *b, double rate, int64_t now_ms);
void ali_bucket_set_rate(struct ali_bucket *b, double rate, int64_t now_ms);
/* Milliseconds until a token is available (0 = now); takes nothing. */
int64_t ali_bucket_wait(struct ali_bucket *b, int64_t now_ms);
/* Takes one token; returns 0 or the ms to wait before trying again. */
int64_t ali_bucket_take(struct ali_bucket *b, int64_t now_ms);

struct ali_rate_action {
	char name[ALI_RATE_ACTION_MAX];
	struct ali_bucket b;
	int64_t last_cut_ms;
	double cut_at; /* rate when last throttled; the ceiling before */
	uint64_t takes, takes_at_cut;
	uint64_t ok, throttled;
};

struct ali_rate {
	double ceiling;
	struct ali_bucket total;
	/* actions beyond the table share the last slot (named "") */
	struct ali_rate_action act[ALI_RATE_MAX_ACTIONS];
	int n_act;
};

void ali_rate_init(struct ali_rate *r, double ceiling, int64_t now_ms);
/* A new ceiling; every action's budget is clamped to it. */
void ali_rate_set_ceiling(struct ali_rate *r, double ceiling, int64_t now_ms);
/* Takes a token of the action and of the product when both are there;
 * returns 0, or the ms to wait before asking again (nothing taken). */
int64_t ali_rate_take(struct ali_rate *r, const char *action, int64_t now_ms);
/* A call of the action succeeded: additive increase. */
void ali_rate_ok(struct ali_rate *r, const char *action, int64_t now_ms);
/* The cloud throttled a call of the action: multiplicative decrease. */
void ali_rate_throttled(struct ali_rate *r, const char *action, int64_t now_ms);
/* The action's current budget in calls/s (the start value if never seen;
 * <= 0 when unlimited). */
double ali_rate_of(const struct ali_rate *r, const char *action);

#endif
