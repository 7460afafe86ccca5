#include "kube/kube_curlev.h"

#include <errno.h>
#include <stdlib.h>

struct kube_curlev {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	kube_curlev_done_fn done;
};

/* curl's per-socket pointer: the event watching that socket */
struct sockev {
	struct event *ev;
};

static void check_done(struct kube_curlev *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		void *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv)
			m->done(priv, msg->data.result);
	}
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct kube_curlev *m = arg;
	int action = (what & EV_READ ? CURL_CSELECT_IN : 0) |
		     (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(m->multi, fd, action, &running);
	check_done(m);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct kube_curlev *m = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(m);
}

static int timer_cb(CURLM *multi, long ms, void *userp)
{
	struct kube_curlev *m = userp;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	(void)multi;
	if (ms < 0)
		return evtimer_del(m->timer);
	return evtimer_add(m->timer, &tv);
}

static int sock_cb(CURL *e, curl_socket_t fd, int what, void *userp,
		   void *sockp)
{
	struct kube_curlev *m = userp;
	struct sockev *s = sockp;
	short kind = EV_PERSIST;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			event_free(s->ev);
			free(s);
		}
		curl_multi_assign(m->multi, fd, NULL);
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		curl_multi_assign(m->multi, fd, s);
	} else if (s->ev) {
		event_free(s->ev);
	}
	kind |= (what & CURL_POLL_IN ? EV_READ : 0) |
		(what & CURL_POLL_OUT ? EV_WRITE : 0);
	s->ev = event_new(m->base, fd, kind, on_sock, m);
	if (s->ev == NULL)
		return -1;
	return event_add(s->ev, NULL);
}

int kube_curlev_new(struct event_base *base, kube_curlev_done_fn done,
		    struct kube_curlev **ret)
{
	struct kube_curlev *m = calloc(1, sizeof(*m));

	*ret = NULL;
	if (m == NULL)
		return -ENOMEM;
	m->base = base;
	m->done = done;
	m->multi = curl_multi_init();
	m->timer = evtimer_new(base, on_timer, m);
	if (m->multi == NULL || m->timer == NULL) {
		kube_curlev_free(m);
		return -ENOMEM;
	}
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	*ret = m;
	return 0;
}

void kube_curlev_free(struct kube_curlev *m)
{
	if (m == NULL)
		return;
	if (m->multi)
		curl_multi_cleanup(m->multi);
	if (m->timer)
		event_free(m->timer);
	free(m);
}

void kube_curlev_kick(struct kube_curlev *m)
{
	int running;

	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(m);
}

CURLM *kube_curlev_multi(const struct kube_curlev *m)
{
	return m->multi;
}

struct event_base *kube_curlev_base(const struct kube_curlev *m)
{
	return m->base;
}
