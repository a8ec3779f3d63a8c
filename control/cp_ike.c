/* cp_ike.c - dpsec-ctld's IKEv2: the engine of ike/ikev2.h on UDP 500 and
 * 4500 of the gateway's namespace, IPv4 and IPv6 (dpsecd hands IKE to the
 * host through its exception TAP, the non-ESP marker kept on 4500). The
 * policy for a peer comes from the assigned policy (cp_ike_policy.c;
 * authentication: cp_ike_auth.c). An ACQUIRE starts IKE_SA_INIT; a child
 * SA up is installed as an SA pair (the outbound one carried by a per-peer
 * rule before the generic rule, the inbound one bound to that rule), and
 * removed when it comes down; a soft lifetime rekeys it (the new pair
 * takes the old one's rule over). IKEv1 runs beside it on the same sockets
 * and events (cp_ikev1.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "cp.h"
#include "cp_ike.h"
#include "cp_ikev1.h"
#include "ikev2.h"

#define PEER_RENEWED_GRACE_NS (5 * 1000000000ull) /* see ike_rekeyed() */

#define IKE_DGRAM_MAX 65536
#define NON_ESP_MARKER 4

uint64_t cp_ike_now_ms(void)
{
	return cp_now_ns() / 1000000u;
}

static const char *addr_str(const struct dpsec_addr *a, char *buf, size_t len)
{
	return inet_ntop(a->family == DPSEC_AF_INET6 ? AF_INET6 : AF_INET, a->a, buf, (socklen_t)len);
}

static uint32_t spi_alloc(void *ctx)
{
	struct cp_ctx *c = ctx;

	/* unique among ctld's SAs: a counter from a random start, never < 256 */
	do
		c->ike->next_spi++;
	while (c->ike->next_spi < 256);
	return c->ike->next_spi;
}

static void engine_log(void *ctx, int level, const char *line)
{
	struct cp_ctx *c = ctx;

	cp_ikelog_write(&c->ikelog, level, line);
	cp_log(level, "ike: %s", line);
}

/* ---- sockets ----------------------------------------------------------- */

/* A UDP socket on port of every address of the family, telling each
 * datagram's local address (IP_PKTINFO / IPV6_RECVPKTINFO); -1 with err. */
static int open_udp(bool v6, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int one = 1, fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc = fd < 0 ? -1 : 0;

	if (rc == 0 && v6)
		rc = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
		     bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 ? -1 : 0;
	else if (rc == 0)
		rc = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
		     bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? -1 : 0;
	if (rc < 0) {
		snprintf(err, errlen, "UDP port %u over %s: %s", port, v6 ? "IPv6" : "IPv4",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void close_sockets(struct cp_ike *k)
{
	for (int v6 = 0; v6 < 2; v6++)
		for (int natt = 0; natt < 2; natt++)
			if (k->fd[v6][natt] >= 0)
				close(k->fd[v6][natt]);
}

/* Both ports over IPv4 (needed) and IPv6 (without it, IKE runs over IPv4
 * only: logged). */
static int open_sockets(struct cp_ike *k, char *err, size_t errlen)
{
	char why[CP_ERR_MAX];

	memset(k->fd, -1, sizeof(k->fd));
	k->fd[0][0] = open_udp(false, IKEV2_PORT, err, errlen);
	k->fd[0][1] = k->fd[0][0] < 0 ? -1 : open_udp(false, IKEV2_NATT_PORT, err, errlen);
	if (k->fd[0][1] < 0) {
		close_sockets(k);
		return -1;
	}
	k->fd[1][0] = open_udp(true, IKEV2_PORT, why, sizeof(why));
	k->fd[1][1] = k->fd[1][0] < 0 ? -1 : open_udp(true, IKEV2_NATT_PORT, why, sizeof(why));
	if (k->fd[1][1] < 0) {
		cp_log(LOG_WARNING, "ike: IKE over IPv4 only: %s", why);
		if (k->fd[1][0] >= 0)
			close(k->fd[1][0]);
		k->fd[1][0] = -1;
	}
	return 0;
}

int cp_ike_open(struct cp_ctx *c, char *err, size_t errlen)
{
	struct cp_ike *k = calloc(1, sizeof(*k));
	struct ikev2_conf conf;
	struct ike_err ierr = { 0 };

	if (k == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (open_sockets(k, err, errlen) < 0) {
		free(k);
		return -1;
	}
	ikev2_conf_default(&conf);
	conf.lookup = cp_ike_lookup_v2;
	conf.lookup_ctx = c;
	conf.spi_alloc = spi_alloc;
	conf.spi_ctx = c;
	conf.log = engine_log;
	conf.log_ctx = c;
	conf.fragment_size = c->o.ike_fragment_size;
	conf.cookie_threshold = c->o.ike_cookie_threshold;
	conf.half_open_per_source = c->o.ike_half_open_per_source;
	if (getrandom(&k->next_spi, sizeof(k->next_spi), 0) != sizeof(k->next_spi))
		k->next_spi = (uint32_t)cp_now_ns(); /* only the start of the sequence */
	c->ike = k;
	k->e = ikev2_engine_new(&conf, &ierr);
	if (k->e == NULL) {
		snprintf(err, errlen, "IKEv2 engine: %s", ierr.msg);
		cp_ike_close(c);
		return -1;
	}
	conf.lookup = cp_ike_lookup_any;
	k->v1 = cp_ikev1_open(c, &conf, err, errlen);
	if (k->v1 == NULL) {
		cp_ike_close(c);
		return -1;
	}
	return 0;
}

void cp_ike_close(struct cp_ctx *c)
{
	if (c->ike == NULL)
		return;
	if (c->ike->e != NULL)
		ikev2_engine_free(c->ike->e);
	cp_ikev1_close(c->ike->v1);
	close_sockets(c->ike);
	free(c->ike);
	c->ike = NULL;
}

/* An endpoint from a socket address of either family. */
static void endpoint_of(struct ike_endpoint *ep, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET6) {
		ep->addr.family = DPSEC_AF_INET6;
		memcpy(ep->addr.a, &sin6->sin6_addr, 16);
		ep->port = ntohs(sin6->sin6_port);
		return;
	}
	ep->addr.family = DPSEC_AF_INET;
	memcpy(ep->addr.a, &sin->sin_addr, 4);
	ep->port = ntohs(sin->sin_port);
}

/* The socket address of an endpoint; its length. */
static socklen_t sockaddr_of(const struct ike_endpoint *ep, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ep->addr.family == DPSEC_AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ep->port);
		memcpy(&sin6->sin6_addr, ep->addr.a, 16);
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(ep->port);
	memcpy(&sin->sin_addr, ep->addr.a, 4);
	return sizeof(*sin);
}

union pktinfo_cmsg {
	struct cmsghdr h;
	uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))]; /* the larger of the two */
};

/* The control message that sets a datagram's source address; its length. */
static size_t source_cmsg(const struct dpsec_addr *src, union pktinfo_cmsg *cm)
{
	memset(cm, 0, sizeof(*cm));
	if (src->family == DPSEC_AF_INET6) {
		struct in6_pktinfo *pi = (struct in6_pktinfo *)CMSG_DATA(&cm->h);

		cm->h.cmsg_level = IPPROTO_IPV6;
		cm->h.cmsg_type = IPV6_PKTINFO;
		cm->h.cmsg_len = CMSG_LEN(sizeof(*pi));
		memcpy(&pi->ipi6_addr, src->a, 16);
		return CMSG_SPACE(sizeof(*pi));
	}
	struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(&cm->h);

	cm->h.cmsg_level = IPPROTO_IP;
	cm->h.cmsg_type = IP_PKTINFO;
	cm->h.cmsg_len = CMSG_LEN(sizeof(*pi));
	memcpy(&pi->ipi_spec_dst, src->a, 4);
	return CMSG_SPACE(sizeof(*pi));
}

static void send_dgram(struct cp_ctx *c, const struct ikev2_event *ev)
{
	static const uint8_t marker[NON_ESP_MARKER];
	bool natt = ev->send.local.port == IKEV2_NATT_PORT;
	bool v6 = ev->send.remote.addr.family == DPSEC_AF_INET6;
	struct sockaddr_storage to;
	union pktinfo_cmsg cm;
	struct iovec iov[2] = { { (void *)marker, NON_ESP_MARKER }, { ev->send.data, ev->send.len } };
	struct msghdr m = { .msg_name = &to, .msg_namelen = sockaddr_of(&ev->send.remote, &to),
			    .msg_iov = natt ? iov : iov + 1, .msg_iovlen = natt ? 2 : 1,
			    .msg_control = cm.b,
			    .msg_controllen = source_cmsg(&ev->send.local.addr, &cm) };
	int fd = c->ike->fd[v6][natt];

	if (fd < 0 || sendmsg(fd, &m, 0) < 0) {
		c->mm[CP_MM_send_failures]++;
		cp_log(LOG_WARNING, "ike: sending to port %u over %s: %s", ev->send.remote.port,
		       v6 ? "IPv6" : "IPv4", fd < 0 ? "no socket" : strerror(errno));
	}
}

/* The local address a datagram was sent to, from its control messages. */
static bool local_addr_of(struct msghdr *m, uint16_t port, struct ike_endpoint *local)
{
	for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h != NULL; h = CMSG_NXTHDR(m, h)) {
		memset(local, 0, sizeof(*local));
		local->port = port;
		if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_PKTINFO) {
			local->addr.family = DPSEC_AF_INET;
			memcpy(local->addr.a, &((struct in_pktinfo *)CMSG_DATA(h))->ipi_addr, 4);
			return true;
		}
		if (h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_PKTINFO) {
			local->addr.family = DPSEC_AF_INET6;
			memcpy(local->addr.a, &((struct in6_pktinfo *)CMSG_DATA(h))->ipi6_addr, 16);
			return true;
		}
	}
	return false;
}

/* A datagram into the engine of its version (byte 17: ISAKMP or IKEv2). */
static int ike_input(struct cp_ctx *c, const uint8_t *buf, size_t len,
		     const struct ike_endpoint *local, const struct ike_endpoint *remote,
		     struct ike_err *err)
{
	if (cp_ikev1_datagram(buf, len))
		return cp_ikev1_input(c, c->ike->v1, buf, len, local, remote, cp_ike_now_ms(), err);
	return ikev2_input(c->ike->e, buf, len, local, remote, cp_ike_now_ms(), err);
}

/* One datagram from the socket (natt: port 4500) into the engine; false
 * when none. */
static bool receive_one(struct cp_ctx *c, int fd, bool natt, uint8_t *buf)
{
	struct sockaddr_storage from;
	union pktinfo_cmsg cm;
	struct iovec iov = { buf, IKE_DGRAM_MAX };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
	ssize_t n = recvmsg(fd, &m, 0);
	struct ike_endpoint local, remote;
	struct ike_err err = { 0 };
	size_t skip = natt ? NON_ESP_MARKER : 0;

	if (n < 0)
		return false;
	if (!local_addr_of(&m, natt ? IKEV2_NATT_PORT : IKEV2_PORT, &local) || (size_t)n <= skip ||
	    (natt && memcmp(buf, "\0\0\0\0", 4) != 0)) {
		if (!(natt && n == 1)) /* a NAT keepalive is nothing to count */
			c->mm[CP_MM_receive_failures]++;
		return true;
	}
	endpoint_of(&remote, &from);
	if (ike_input(c, buf + skip, (size_t)n - skip, &local, &remote, &err) < 0)
		c->mm[CP_MM_invalid_packets_received]++;
	else /* taken: a valid message (its ICV checked once keys exist) */
		cp_ike_life_heard(c, buf + skip);
	return true;
}

/* ---- child SAs in dpsecd ------------------------------------------------- */

struct cp_ike_sa *cp_ike_find_sa(struct cp_ike *k, const struct ikev2_sa_id *id)
{
	for (int i = 0; i < CP_IKE_MAX_SAS; i++)
		if (k->sa[i].used && memcmp(k->sa[i].id.spi_i, id->spi_i, sizeof(id->spi_i)) == 0)
			return &k->sa[i];
	return NULL;
}

struct cp_ike_child *cp_ike_find_child(struct cp_ike *k, uint32_t spi_in)
{
	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++)
		if (k->ch[i].used && k->ch[i].spi_in == spi_in)
			return &k->ch[i];
	return NULL;
}

static struct cp_ike_child *free_child(struct cp_ike *k)
{
	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++)
		if (!k->ch[i].used)
			return &k->ch[i];
	return NULL;
}

/* Names, ESP in UDP under NAT, lifetimes. The soft one is the rekey
 * time, with jitter (cp_ike_soft_point()). IKEv2: 85-90 % on the IKE SA's
 * initiator, 92-97 % on its responder, so that the two peers seldom both
 * rekey the same child SA at once (the engine settles that collision, RFC
 * 7296 §2.8.1, but a pair is made in vain) and SAs set up together spread
 * their rekeys.
 * IKEv1: 85-90 % on both, where cp_ike_rekey_is_ours() picks the side. */
static void prepare(struct ike_child *ch, bool initiator, struct dpsec_lifetime *life)
{
	uint64_t soft = cp_ike_soft_point(initiator); /* hundredths of a percent */

	memset(life, 0, sizeof(*life));
	life->hard_seconds = ch->method.lifetime_seconds ? ch->method.lifetime_seconds : 3600;
	life->soft_seconds = (uint32_t)(life->hard_seconds * soft / 10000);
	life->hard_bytes = ch->method.lifetime_kilobytes * 1024;
	life->soft_bytes = life->hard_bytes / 10000 * soft;
	snprintf(ch->in.name, sizeof(ch->in.name), "ike-in-%08x", ch->in.spi);
	snprintf(ch->out.name, sizeof(ch->out.name), "ike-out-%08x", ch->out.spi);
	ch->in.negotiated = ch->out.negotiated = true;
	if (!ch->udp_encap)
		return;
	ch->in.encap = ch->out.encap = DPSEC_ENCAP_UDP;
	ch->out.udp_sport = ch->in.udp_dport = ch->local_port;
	ch->out.udp_dport = ch->in.udp_sport = ch->remote_port;
}

/* The outbound SA's outer header as its rule's filter action says: the
 * DSCP for a tunnel, the DF bit for one with IPv4 endpoints. */
static void outer_header(struct cp_ctx *c, uint32_t rule_id, struct dpsec_sa_conf *out)
{
	char name[DPSEC_NAME_MAX];
	const struct cfg_filter_action *fa;

	if (out->mode != DPSEC_MODE_TUNNEL || (fa = cp_rule_action(c, rule_id, name)) == NULL)
		return;
	out->dscp_fixed = fa->dscp_fixed;
	out->dscp = fa->dscp;
	if (out->local.family == DPSEC_AF_INET)
		out->df_bit = fa->df_bit;
}

/* The pair into dpsecd: the inbound SA bound to the per-peer rule d (or
 * the rule that carries d), the outbound SA carried by it; *s filled. -1
 * with both undone on refusal. */
static int install_pair(struct cp_ctx *c, const struct ikev2_event *ev, struct cp_dyn_rule *d,
			struct cp_ike_child *s)
{
	const struct cp_ike_sa *sa = cp_ike_find_sa(c->ike, &ev->sa);
	struct ike_child *ch = ev->child;
	uint32_t rule_id = (uint32_t)ev->user;
	struct dpsec_lifetime life, life_in;
	char err[CP_ERR_MAX] = "";
	int in, out;

	prepare(ch, sa == NULL || sa->initiator || sa->version == 1, &life);
	outer_header(c, rule_id, &ch->out);
	life_in = life; /* an idle inbound SA is reported: its delete goes to the peer */
	life_in.idle_seconds = c->store.timeouts.idle_seconds;
	in = cp_sa_add_negotiated(c, &ch->in, &life_in, cp_dyn_carrier(d));
	out = in < 0 ? in : cp_sa_add_negotiated(c, &ch->out, &life, rule_id);
	if (out >= 0 && cp_cmd_wait(c, 10000, err, sizeof(err)) == 0) {
		*s = (struct cp_ike_child){ .used = true, .spi_in = ch->in.spi, .sa_in = (uint32_t)in,
					     .sa_out = (uint32_t)out, .udp_encap = ch->udp_encap,
					     .dyn = d, .dyn_id = d->id, .up_ns = cp_now_ns() };
		d->sa_out = (uint32_t)out;
		return 0;
	}
	cp_log(LOG_ERR, "ike: child SA SPI 0x%08x: dpsecd refused it: %s", ch->in.spi,
	       err[0] ? err : "no free SA slot");
	if (in >= 0)
		cp_sa_del_negotiated(c, (uint32_t)in);
	if (out >= 0)
		cp_sa_del_negotiated(c, (uint32_t)out);
	return -1;
}

/* A child SA up: installed as a pair bound to its per-peer rule
 * (cp_ike_rule.c); a pair it replaces (IKEv1: a Quick Mode of the peer's
 * for a rule and peer that have one already, since IKEv1 tells the
 * responder nothing of a rekey) stays until the peer deletes it or it
 * expires (strongSwan keeps it, delete_rekeyed = no). */
static void child_up(struct cp_ctx *c, const struct ikev2_event *ev, int version)
{
	struct ike_child *ch = ev->child;
	struct cp_ike_child *s = free_child(c->ike), *old = NULL;
	static const char *const how_said[] = {
		[CP_IKE_RULE_NEW] = "", [CP_IKE_RULE_OF_REPLACED] = ", a rekey",
		[CP_IKE_RULE_SHARED] = ", beside another pair with that peer"
	};
	struct cp_dyn_rule *d = NULL;
	char p[64];
	enum cp_ike_rule_how how = CP_IKE_RULE_NEW;

	addr_str(&ch->out.remote, p, sizeof(p));
	if (s != NULL) {
		old = cp_ike_rule_replaces(c->ike, version, ch->rekeys_spi, (uint32_t)ev->user,
					   &ch->out.remote);
		d = cp_ike_rule_for(c, old, (uint32_t)ev->user, &ch->out.remote, &how);
	}
	if (d == NULL || install_pair(c, ev, d, s) < 0) {
		if (d == NULL)
			cp_log(LOG_ERR, "ike: child SA with %s not installed: too many SAs", p);
		else if (how == CP_IKE_RULE_NEW)
			d->used = false;
		c->mm[CP_MM_key_addition_failures]++;
		return;
	}
	if (old != NULL)
		cp_ike_rule_replaced(old);
	s->ike = ev->sa;
	s->version = version;
	s->initiated = ch->initiator;
	s->hard_seconds = ch->method.lifetime_seconds ? ch->method.lifetime_seconds : 3600;
	c->mm[CP_MM_ike_quick_mode]++;
	cp_audit("IKE child SA up with %s: SPIs in 0x%08x out 0x%08x%s%s", p, ch->in.spi, ch->out.spi,
		 ch->udp_encap ? ", ESP in UDP (NAT)" : "", how_said[how]);
	c->sync_wanted = true; /* the rule carries the pair once the batch's events are in */
	if (version == 2 && !ch->initiator) /* the peer installs it on our answer, not yet sent */
		cp_negotiate_answered(c, (uint32_t)ev->user, &ch->out.remote);
	else
		cp_negotiate_done(c, (uint32_t)ev->user, &ch->out.remote, true, NULL);
	cp_ike_life_quick_mode(c, &ev->sa);
}

void cp_ike_pair_out(struct cp_ctx *c, struct cp_ike_child *ch)
{
	cp_ike_rule_release(c, ch);
	cp_sa_del_negotiated(c, ch->sa_in);
	cp_sa_del_negotiated(c, ch->sa_out);
	ch->sa_in = ch->sa_out = CP_SA_NONE;
	ch->dyn = NULL;
	c->sync_wanted = true;
}

static void child_down(struct cp_ctx *c, uint32_t spi_in)
{
	struct cp_ike_child *s = cp_ike_find_child(c->ike, spi_in);

	if (s == NULL)
		return;
	cp_ike_pair_out(c, s);
	s->used = false;
	cp_audit("IKE child SA down: SPI in 0x%08x", spi_in);
}

/* A datagram out now, or, while dpsecd is behind the child SAs it may
 * answer for, held (with those held before it) until cp_ike_flush(). */
static void send_or_hold(struct cp_ctx *c, struct ikev2_event *ev)
{
	struct cp_ike *k = c->ike;

	if (k->n_held == CP_IKE_HELD_MAX)
		cp_ike_flush(c);
	if (!c->sync_wanted && k->n_held == 0) {
		send_dgram(c, ev);
		return;
	}
	k->held[k->n_held++] = *ev; /* its datagram is the queue's now */
	ev->send.data = NULL;
}

void cp_ike_flush(struct cp_ctx *c)
{
	struct cp_ike *k = c->ike;

	cp_sync_if_wanted(c);
	for (uint32_t i = 0; i < k->n_held; i++) {
		send_dgram(c, &k->held[i]);
		ikev2_event_release(&k->held[i]);
	}
	k->n_held = 0;
	cp_acquires_synced(c);
}

bool cp_ike_soft_expire(struct cp_ctx *c, uint32_t sa_id)
{
	for (int i = 0; c->ike != NULL && i < CP_IKE_MAX_CHILDREN; i++) {
		struct cp_ike_child *s = &c->ike->ch[i];

		if (!s->used || (s->sa_in != sa_id && s->sa_out != sa_id))
			continue;
		if (s->rekeying || !cp_ike_rekey_is_ours(c, s)) /* the pair's other SA came first */
			return true;
		cp_ike_child_rekey(c, s, s->version == 2     ? "at its soft lifetime"
					 : s->initiated ? "at its soft lifetime (we sent more or made the pair)"
							: "at its soft lifetime (we sent more)");
		return true;
	}
	return false;
}

/* ---- events ---------------------------------------------------------------- */

/* An IKE SA up: recorded for show mmsas (a full table: logged only). */
static void ike_up(struct cp_ctx *c, const struct ikev2_event *ev, int version)
{
	struct cp_ike_sa *s = NULL;
	char id[96];

	for (int i = 0; s == NULL && i < CP_IKE_MAX_SAS; i++)
		if (!c->ike->sa[i].used)
			s = &c->ike->sa[i];
	if (s != NULL) {
		*s = (struct cp_ike_sa){ .used = true, .id = ev->sa, .rule_id = (uint32_t)ev->user,
					 .peer_id = ev->up.peer_id, .mm = ev->up.mm, .version = version,
					 .lifetime_s = ev->up.lifetime_s };
		cp_ike_life_start(c, s, ev->up.initiator);
	}
	ike_id_describe(&ev->up.peer_id, id, sizeof(id));
	c->mm[CP_MM_ike_main_mode]++;
	c->mm[CP_MM_isadb_list_size]++;
	cp_audit("IKEv%d SA up with %s (%s), rule %08x", version, id,
		 ev->up.initiator ? "initiator" : "responder", (uint32_t)ev->user);
}

/* A failed negotiation; one of ours for an ACQUIRE (peer) ends in the
 * fallback, which counts it. */
static void failed(struct cp_ctx *c, const struct ikev2_event *ev, const struct dpsec_addr *peer)
{
	bool superseded = ev->reason.rekey_spi_in != 0 &&
			  cp_ike_child_rekey_failed(c, ev->reason.rekey_spi_in);

	if (ev->reason.rekey_ike)
		cp_ike_life_rekey_failed(c, &ev->sa);
	if (superseded) {
		cp_log(LOG_INFO, "ike: %s: the peer's own rekey replaced that child SA",
		       ev->reason.text);
		return;
	}
	if (ev->reason.notify == 24) /* AUTHENTICATION_FAILED */
		c->mm[CP_MM_authentication_failures]++;
	cp_audit("IKE negotiation failed, rule %08x: %s", (uint32_t)ev->user, ev->reason.text);
	if (peer != NULL)
		cp_negotiate_done(c, (uint32_t)ev->user, peer, false, ev->reason.text);
	else
		c->mm[CP_MM_negotiation_failures]++;
}

/* The child SAs move to the new SA. IKEv2: the IKE SA itself was
 * rekeyed. IKEv1: a new Main Mode (up already) adopted them; the old one
 * stays until deleted, by the side that renewed. */
static void ike_rekeyed(struct cp_ctx *c, const struct ikev2_event *ev)
{
	struct cp_ike_sa *s = cp_ike_find_sa(c->ike, &ev->sa);

	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++)
		if (c->ike->ch[i].used && memcmp(&c->ike->ch[i].ike, &ev->sa, sizeof(ev->sa)) == 0)
			c->ike->ch[i].ike = ev->rekeyed.new_sa;
	if (s == NULL)
		return;
	if (cp_ike_find_sa(c->ike, &ev->rekeyed.new_sa) != NULL) {
		cp_audit("IKEv1 SA with rule %08x replaced by a new Main Mode (%s): its quick mode "
			 "SAs moved to it", s->rule_id, s->rekeying ? "ours" : "the peer's");
		/* The peer renewed and should delete the old SA, but strongSwan's
		 * IKEv1 reauth keeps it until its own lifetime ends (hours). Without
		 * its pairs it goes at its soft point (cp_ike_life.c), brought
		 * forward to a few seconds from now: time for the peer to finish its
		 * Main Mode (a lost last message sent again) before our DELETE. */
		if (!s->rekeying && s->rekey_ns > cp_now_ns() + PEER_RENEWED_GRACE_NS) {
			s->rekey_ns = cp_now_ns() + PEER_RENEWED_GRACE_NS;
			s->replaced = true;
		}
		return;
	}
	/* after a rekey collision the survivor may be the peer's, though we tried too */
	cp_audit("IKE SA with rule %08x rekeyed by %s", s->rule_id,
		 ev->rekeyed.initiator ? "us" : "the peer");
	s->id = ev->rekeyed.new_sa;
	cp_ike_life_start(c, s, ev->rekeyed.initiator); /* the rekey's initiator is the new SA's */
}

static void ike_down(struct cp_ctx *c, const struct ikev2_event *ev)
{
	struct cp_ike_sa *s = cp_ike_find_sa(c->ike, &ev->sa);

	if (s != NULL) {
		s->used = false;
		c->mm[CP_MM_isadb_list_size]--;
	}
	cp_audit("IKE SA down: %s", ev->reason.text);
}

/* The peer behind a NAT sends from a new address or port (RFC 7296
 * §2.23): each outbound SA of the IKE SA's children sends there too, and
 * each inbound one with ESP in UDP takes the address and port as its
 * peer's (else it would report them again, DPSEC_EV_PEER_MOVED). A refusal is
 * dpsecd's to say (on_ack). */
static void peer_moved(struct cp_ctx *c, const struct ikev2_event *ev)
{
	char addr[INET6_ADDRSTRLEN];
	struct dpsec_cmd_sa_move m = { .remote = ev->moved.remote.addr };
	int moved = 0;

	for (int i = 0; i < CP_IKE_MAX_CHILDREN; i++) {
		const struct cp_ike_child *ch = &c->ike->ch[i];

		if (!ch->used || ch->sa_out == CP_SA_NONE ||
		    memcmp(ch->ike.spi_i, ev->sa.spi_i, sizeof(ev->sa.spi_i)) != 0)
			continue;
		m.sa_id = ch->sa_out;
		m.udp_port = ch->udp_encap ? ev->moved.remote.port : 0;
		if (cp_cmd_post(c, DPSEC_CMD_SA_MOVE, &m, sizeof(m)) == 0)
			moved++;
		m.sa_id = ch->sa_in;
		if (ch->udp_encap && ch->sa_in != CP_SA_NONE)
			cp_cmd_post(c, DPSEC_CMD_SA_MOVE, &m, sizeof(m));
	}
	cp_audit("IKE peer moved to %s port %u (its NAT's mapping changed): %d outbound SAs follow",
		 addr_str(&ev->moved.remote.addr, addr, sizeof(addr)), ev->moved.remote.port, moved);
}

void cp_ike_esp_moved(struct cp_ctx *c, const struct dpsec_ev_peer_moved *ev)
{
	struct ike_endpoint at = { .addr = ev->remote, .port = ev->udp_sport };
	const struct cp_ike_child *ch = NULL;

	if (c->ike == NULL || ev->udp_sport == 0 ||
	    (ev->remote.family != DPSEC_AF_INET && ev->remote.family != DPSEC_AF_INET6))
		return;
	for (int i = 0; i < CP_IKE_MAX_CHILDREN && ch == NULL; i++)
		if (c->ike->ch[i].used && c->ike->ch[i].sa_in == ev->sa_id)
			ch = &c->ike->ch[i];
	if (ch == NULL)
		return; /* deleted meanwhile */
	if (ch->version == 1)
		cp_ikev1_peer_moved(c->ike->v1, &ch->ike, &at, cp_ike_now_ms());
	else
		ikev2_peer_moved(c->ike->e, &ch->ike, &at, cp_ike_now_ms());
}

const struct cp_ike_sa *cp_ike_sa_at(const struct cp_ctx *c, int i)
{
	return c->ike != NULL && i >= 0 && i < CP_IKE_MAX_SAS && c->ike->sa[i].used ? &c->ike->sa[i]
										  : NULL;
}

/* The peer of the ACQUIRE the failed IKE SA was started for. */
static bool acquire_peer(const struct cp_ctx *c, const struct ikev2_event *ev, struct dpsec_addr *peer)
{
	for (int i = 0; i < CP_MAX_ACQUIRES; i++)
		if (c->acq[i].used && c->acq[i].rule_id == (uint32_t)ev->user &&
		    memcmp(c->acq[i].ike_spi_i, ev->sa.spi_i, sizeof(ev->sa.spi_i)) == 0) {
			*peer = c->acq[i].peer;
			return true;
		}
	return false;
}

void cp_ike_event(struct cp_ctx *c, struct ikev2_event *ev, int version)
{
	struct dpsec_addr peer;

	switch (ev->kind) {
	case IKEV2_EV_SEND: send_or_hold(c, ev); break;
	case IKEV2_EV_NAT:
		cp_log(LOG_INFO, "ike: NAT: local %s, remote %s", ev->nat.local_behind_nat ? "yes" : "no",
		       ev->nat.remote_behind_nat ? "yes" : "no");
		break;
	case IKEV2_EV_IKE_UP: ike_up(c, ev, version); break;
	case IKEV2_EV_CHILD_UP: child_up(c, ev, version); break;
	case IKEV2_EV_CHILD_DOWN: child_down(c, ev->child_down.spi_in); break;
	case IKEV2_EV_IKE_REKEYED: ike_rekeyed(c, ev); break;
	case IKEV2_EV_IKE_DOWN: ike_down(c, ev); break;
	case IKEV2_EV_FAILED: failed(c, ev, acquire_peer(c, ev, &peer) ? &peer : NULL); break;
	case IKEV2_EV_PEER_MOVED: peer_moved(c, ev); break;
	}
}

void cp_ike_poll(struct cp_ctx *c)
{
	static uint8_t buf[IKE_DGRAM_MAX];
	struct ikev2_event ev;

	if (c->ike == NULL)
		return;
	for (int v6 = 0; v6 < 2; v6++)
		for (int natt = 0; natt < 2; natt++)
			while (c->ike->fd[v6][natt] >= 0 && receive_one(c, c->ike->fd[v6][natt], natt, buf))
				;
	if (c->attached)
		cp_ike_life_tick(c);
	if (cp_ike_now_ms() >= ikev2_next_timer(c->ike->e))
		ikev2_tick(c->ike->e, cp_ike_now_ms());
	while (ikev2_next_event(c->ike->e, &ev)) {
		if (c->attached || ev.kind == IKEV2_EV_SEND)
			cp_ike_event(c, &ev, 2);
		ikev2_event_release(&ev);
	}
	cp_ikev1_poll(c, c->ike->v1, cp_ike_now_ms());
	cp_ike_flush(c); /* one sync for all the child SAs the datagrams brought */
}

/* Our address towards peer: the kernel's route (the exception TAP). */
static int local_toward(const struct dpsec_addr *peer, struct dpsec_addr *local)
{
	struct ike_endpoint ep = { .addr = *peer, .port = IKEV2_PORT };
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(&ep, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	rc = fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0 ||
	     getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	endpoint_of(&ep, &ss);
	*local = ep.addr;
	return rc;
}

/* An IKE SA of the rule with this peer (a transport rule may have many)
 * is still up (its child SAs went idle or were deleted): a new child SA
 * on it (IKEv2 CREATE_CHILD_SA, IKEv1 Quick Mode). -1 when none. */
static int child_on_existing(struct cp_ctx *c, struct cp_acquire *a, const char *peer, int version)
{
	struct ike_err err = { 0 };
	struct ike_id peer_id;

	if (ike_id_addr(&peer_id, &a->peer, &err) < 0)
		return -1;
	for (int i = 0; i < CP_IKE_MAX_SAS; i++) {
		struct cp_ike_sa *s = &c->ike->sa[i];

		if (!s->used || s->version != version || s->rule_id != a->rule_id || s->expiring ||
		    !ike_id_matches(&s->peer_id, &peer_id))
			continue;
		if ((version == 1 ? cp_ikev1_quick_mode(c->ike->v1, &s->id, cp_ike_now_ms(), &err)
				  : ikev2_create_child(c->ike->e, &s->id, cp_ike_now_ms(), &err)) < 0) {
			cp_log(LOG_WARNING, "ike: new child SA with %s: %s", peer, err.msg);
			return -1;
		}
		memcpy(a->ike_spi_i, s->id.spi_i, sizeof(s->id.spi_i));
		cp_log(LOG_INFO, "ike: %s to %s for rule %08x", version == 1 ? "Quick Mode" : "CREATE_CHILD_SA",
		       peer, a->rule_id);
		return 0;
	}
	return -1;
}

int cp_ike_initiate(struct cp_ctx *c, struct cp_acquire *a)
{
	const struct dpsec_addr *peer = &a->peer;
	struct ike_endpoint local = { .port = IKEV2_PORT }, remote = { .addr = *peer, .port = IKEV2_PORT };
	struct ikev2_peer pol;
	struct ikev2_sa_id id;
	struct ike_err err = { 0 };
	bool v1 = cp_ikev1_assigned(c);
	const char *what = v1 ? "IKEv1 Main Mode" : "IKE_SA_INIT";
	char p[64];
	int rc;

	if (c->ike == NULL)
		return -1;
	addr_str(peer, p, sizeof(p));
	if ((rc = local_toward(peer, &local.addr)) < 0) {
		cp_log(LOG_ERR, "ike: no route to %s from this namespace: %s", p, strerror(-rc));
		return -1;
	}
	if (child_on_existing(c, a, p, v1 ? 1 : 2) == 0)
		return 0;
	if (cp_ike_policy_for(c, a->rule_id, peer, &local.addr, NULL, &pol) < 0)
		return -1;
	rc = v1 ? cp_ikev1_initiate(c->ike->v1, &pol, &local, &remote, cp_ike_now_ms(), &id, &err)
		: ikev2_initiate(c->ike->e, &pol, &local, &remote, cp_ike_now_ms(), &id, &err);
	explicit_bzero(&pol, sizeof(pol));
	if (rc < 0) {
		cp_log(LOG_ERR, "ike: %s to %s: %s", what, p, err.msg);
		return -1;
	}
	memcpy(a->ike_spi_i, id.spi_i, sizeof(id.spi_i));
	cp_log(LOG_INFO, "ike: %s to %s for rule %08x", what, p, a->rule_id);
	return 0;
}
