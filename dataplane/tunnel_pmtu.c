/* tunnel_pmtu.c - path MTU discovery for the gateway's own ESP and AH
 * packets (RFC 4301 §8.2.1, §8.2.2; RFC 1191, RFC 8201). A router beyond
 * the gateway that cannot pass one of them (DF copied from the inner
 * packet, RFC 4301 §8.1) answers with ICMP "fragmentation needed" or
 * "packet too big" quoting it: its SPI names the outbound SA. The manager
 * records the reported MTU in that SA for dataplane.pmtu_age_seconds
 * (0: such messages are not trusted, RFC 4301 §6.1.1), after checking that
 * the message is sound: its checksum, a quote of a packet we sent, longer
 * than the MTU reported, and an MTU lower than the one the SA has now.
 * The workers measure packets against it as against their port's MTU
 * (icmp_err.c). Unauthenticated, such a message can only lower an SA's
 * path MTU to the floor (576 bytes for IPv4, 1280 for IPv6), never raise
 * it, and only for the age. The path is the peer's: the manager also keeps
 * the last MTU recorded for each peer address, and an outbound SA installed
 * to that peer while it holds (the SA that replaces another at a rekey, a
 * further child SA) starts with it instead of losing a packet to learn it
 * again; the SAs to that peer already installed take it when the
 * lifetime scan (dp_life.c) next visits them, within a pass (a quarter
 * of a second, a second for a million SAs), with no index by peer that
 * a forged report could make the manager walk. A report quoting UDP from
 * our NAT-T port only to its header (no SPI: ESP in UDP or IKE) is kept
 * for the peer alone, and passed on to the host. */
#include <netinet/in.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp.h"
#include "dp_mgr.h"
#include "dp_pkt.h"
#include "icmp_err.h"
#include "tunnel_pmtu.h"

#define ICMP_HDR_LEN 8
#define ICMP4_UNREACH 3
#define ICMP4_FRAG_NEEDED 4
#define ICMP6_PACKET_TOO_BIG 2
#define SPI_LEN 4
#define AH_SPI_OFF 4

/* A quoted IPv6 packet whose header a fragment header follows: one of the
 * host's ESP packets the gateway cut in transport mode (frag.c). Only the
 * first fragment holds the SPI; returns the length of both headers, its
 * next header in *proto, or 0. */
static uint32_t quoted_first_fragment6(const uint8_t *q, uint32_t qlen, uint8_t *proto)
{
	const uint32_t hlen = sizeof(struct rte_ipv6_hdr) + sizeof(struct rte_ipv6_fragment_ext);
	const struct rte_ipv6_fragment_ext *fh =
		(const struct rte_ipv6_fragment_ext *)(q + sizeof(struct rte_ipv6_hdr));

	if (qlen < hlen || (rte_be_to_cpu_16(fh->frag_data) & ~7u) != 0)
		return 0;
	*proto = fh->next_header;
	return hlen;
}

/* The quoted packet's IP header: its family's, with nothing it does not
 * carry itself (no IPv4 options, no IPv6 extension headers but a fragment
 * header: a first fragment), IPv4 with DF. Returns its length, or 0. */
static uint32_t quoted_ip(const uint8_t *q, uint32_t qlen, uint8_t family,
			  struct dp_pmtu_report *r, const uint8_t **src, uint8_t *proto)
{
	if (family == DPSEC_AF_INET6) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)q;

		if (qlen < sizeof(*ip) || (q[0] >> 4) != 6)
			return 0;
		*src = ip->src_addr;
		memcpy(r->remote, ip->dst_addr, 16);
		*proto = ip->proto;
		r->quoted_len = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
		if (ip->proto == IPPROTO_FRAGMENT)
			return quoted_first_fragment6(q, qlen, proto);
		return sizeof(*ip);
	}
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)q;

	/* a router reports only a packet it may not fragment (RFC 1191 §3) */
	if (qlen < sizeof(*ip) || ip->version_ihl != 0x45 ||
	    !(ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)))
		return 0;
	*src = (const uint8_t *)&ip->src_addr;
	memset(r->remote, 0, 16);
	memcpy(r->remote, &ip->dst_addr, 4);
	*proto = ip->next_proto_id;
	r->quoted_len = rte_be_to_cpu_16(ip->total_length);
	return sizeof(*ip);
}

/* A quote of UDP that stops after its header (hlen bytes of IP header
 * before it): from one of our NAT-T ports, it was ESP in UDP or IKE to the
 * peer, either way that peer's path. */
static bool quoted_natt_header(const uint8_t *q, uint32_t qlen, uint32_t hlen,
			       struct dp_pmtu_report *r)
{
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(q + hlen);

	if (qlen < hlen + sizeof(*udp) || !dp_sa_natt_port(&dp_g->sas, rte_be_to_cpu_16(udp->src_port)))
		return false;
	r->peer_only = true;
	r->proto = IPPROTO_ESP;
	r->spi_be = 0;
	return true;
}

/* The SPI of the quoted ESP, AH or ESP in UDP (not IKE's non-ESP marker,
 * RFC 3948 §2.2) after its IP header of hlen bytes; false if the quote
 * stops before it (but for UDP from a NAT-T port quoted to its header). */
static bool quoted_spi(const uint8_t *q, uint32_t qlen, uint32_t hlen, uint8_t proto,
		       struct dp_pmtu_report *r)
{
	uint32_t off = hlen;

	r->udp = proto == IPPROTO_UDP;
	r->peer_only = false;
	if (proto == IPPROTO_UDP)
		off += sizeof(struct rte_udp_hdr);
	else if (proto == IPPROTO_AH)
		off += AH_SPI_OFF;
	else if (proto != IPPROTO_ESP)
		return false;
	if (proto == IPPROTO_UDP && qlen < off + SPI_LEN)
		return quoted_natt_header(q, qlen, hlen, r);
	if (qlen < off + SPI_LEN)
		return false;
	memcpy(&r->spi_be, q + off, SPI_LEN);
	r->proto = proto == IPPROTO_AH ? IPPROTO_AH : IPPROTO_ESP;
	return r->spi_be != 0;
}

/* The ICMP message's type, code and checksum: fragmentation needed or
 * packet too big, whole. Fills r->mtu. */
static bool pmtu_icmp(const uint8_t *icmp, uint32_t len, const struct rte_mbuf *m,
		      const struct dp_meta *md, struct dp_pmtu_report *r)
{
	uint32_t mtu;

	if (len < ICMP_HDR_LEN)
		return false;
	mtu = (uint32_t)icmp[4] << 24 | (uint32_t)icmp[5] << 16 | (uint32_t)icmp[6] << 8 | icmp[7];
	if (md->family == DPSEC_AF_INET6) {
		const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);

		if (icmp[0] != ICMP6_PACKET_TOO_BIG || icmp[1] != 0 ||
		    md->l3_len != sizeof(*ip) || rte_ipv6_udptcp_cksum_verify(ip, icmp) != 0)
			return false;
	} else {
		if (icmp[0] != ICMP4_UNREACH || icmp[1] != ICMP4_FRAG_NEEDED ||
		    rte_raw_cksum(icmp, len) != 0xffff)
			return false;
		mtu &= 0xffff; /* RFC 1191 §4: the next-hop MTU is the low 16 bits */
	}
	r->mtu = mtu;
	return true;
}

bool dp_pmtu_parse(const struct rte_mbuf *m, const struct dp_meta *md, struct dp_pmtu_report *r)
{
	const uint8_t *icmp = rte_pktmbuf_mtod_offset(m, const uint8_t *, md->l3_len);
	uint32_t len = m->data_len > md->l3_len ? m->data_len - md->l3_len : 0;
	const uint8_t *src;
	uint32_t hlen;
	uint8_t proto;

	if (md->l4proto != (md->family == DPSEC_AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) ||
	    (md->flags & DP_M_FRAG) || !pmtu_icmp(icmp, len, m, md, r))
		return false;
	r->family = md->family;
	hlen = quoted_ip(icmp + ICMP_HDR_LEN, len - ICMP_HDR_LEN, md->family, r, &src, &proto);
	return hlen != 0 && dp_local_addr(dp_g, md->family, src) &&
	       quoted_spi(icmp + ICMP_HDR_LEN, len - ICMP_HDR_LEN, hlen, proto, r);
}

/* The outbound SA index's key: the SAD's, with the peer for destination
 * (where the SA's packets go). */
static void key_of_conf(struct dp_sad_key *k, const struct dpsec_sa_conf *c)
{
	dp_sa_sad_key(k, rte_cpu_to_be_32(c->spi),
		      c->protocol == DPSEC_PROTO_AH ? IPPROTO_AH : IPPROTO_ESP, c->remote.family,
		      c->remote.a);
}

/* The peer table's key: the SAD's, with only the peer's address. */
static void key_of_peer(struct dp_sad_key *k, uint8_t family, const uint8_t *remote)
{
	dp_sa_sad_key(k, 0, 0, family, remote);
}

static struct rte_hash *key_table(const char *name, uint32_t entries)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = entries < 64 ? 64 : entries,
		.key_len = sizeof(struct dp_sad_key),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
	};

	return rte_hash_create(&hp);
}

int dp_pmtu_init(struct dp_ctx *dp)
{
	dp->mgr->out_sas = key_table("dpsec_out_sas", dp->sas.capacity);
	dp->mgr->peer_pmtu = key_table("dpsec_peer_pmtu", DP_PMTU_PEERS);
	return dp->mgr->out_sas != NULL && dp->mgr->peer_pmtu != NULL ? 0 : -1;
}

void dp_pmtu_fini(struct dp_ctx *dp)
{
	rte_hash_free(dp->mgr->out_sas);
	rte_hash_free(dp->mgr->peer_pmtu);
	dp->mgr->out_sas = NULL;
	dp->mgr->peer_pmtu = NULL;
}

/* A path MTU record (dp_sa.path_mtu's form) is live until its high bits. */
static bool live(uint64_t rec, uint64_t now)
{
	return rec != 0 && now < (rec & ~DP_SA_PMTU_MASK);
}

/* The record kept for the peer k, 0 when none holds. */
static uint64_t peer_record(const struct dp_ctx *dp, const struct dp_sad_key *k, uint64_t now)
{
	void *data;

	if (rte_hash_lookup_data(dp->mgr->peer_pmtu, k, &data) < 0)
		return 0;
	return live((uintptr_t)data, now) ? (uintptr_t)data : 0;
}

/* The peer records that no longer hold, removed (a full table). */
static void purge_peers(struct dp_ctx *dp, uint64_t now)
{
	const void *key;
	void *data;
	uint32_t next = 0;

	while (rte_hash_iterate(dp->mgr->peer_pmtu, &key, &data, &next) >= 0)
		if (!live((uintptr_t)data, now))
			rte_hash_del_key(dp->mgr->peer_pmtu, key);
}

/* rec, the path MTU just recorded in an SA to the peer k, kept for the
 * peer (the latest report about a path is the best knowledge of it). */
static void remember_peer(struct dp_ctx *dp, const struct dp_sad_key *k, uint64_t rec, uint64_t now)
{
	void *data = (void *)(uintptr_t)rec;

	if (rte_hash_add_key_data(dp->mgr->peer_pmtu, k, data) == 0)
		return;
	purge_peers(dp, now);
	if (rte_hash_add_key_data(dp->mgr->peer_pmtu, k, data) != 0)
		dp->mgr_ctr.c[DP_C_pmtu_peers_full]++; /* the SA has it all the same */
}

void dp_pmtu_sa_added(struct dp_ctx *dp, uint32_t idx, const struct dpsec_sa_conf *conf)
{
	struct dp_sad_key k;
	uint64_t rec;

	if (conf->direction != DPSEC_DIR_OUT)
		return;
	key_of_conf(&k, conf);
	/* two SAs to one peer with one SPI: the later is found (a full table
	 * only loses their path MTU) */
	rte_hash_add_key_data(dp->mgr->out_sas, &k, (void *)(uintptr_t)idx);
	key_of_peer(&k, conf->remote.family, conf->remote.a);
	rec = peer_record(dp, &k, rte_rdtsc());
	/* an SA whose packets never carry DF is fragmented by routers instead */
	if (rec != 0 && !(dp->sas.sa[idx]->flags & DP_SA_DF_CLEAR)) {
		__atomic_store_n(&dp->sas.sa[idx]->path_mtu, rec, __ATOMIC_RELAXED);
		dp->mgr_ctr.c[DP_C_pmtu_inherited]++;
	}
}

void dp_pmtu_scan_sa(struct dp_ctx *dp, uint32_t idx, uint64_t now)
{
	struct dp_sa *sa = dp->sas.sa[idx];
	const struct dpsec_sa_conf *c = &dp->mgr->shm.sas[idx].conf;
	uint64_t rec, own;
	uint32_t mtu, current;
	struct dp_sad_key k;

	if (dp->mgr->pmtu_until_tsc == 0 || sa->direction != DPSEC_DIR_OUT ||
	    (sa->flags & DP_SA_DF_CLEAR))
		return;
	key_of_peer(&k, c->remote.family, c->remote.a);
	rec = peer_record(dp, &k, now);
	own = __atomic_load_n(&sa->path_mtu, __ATOMIC_RELAXED);
	mtu = (uint32_t)(rec & DP_SA_PMTU_MASK);
	current = dp_sa_path_mtu(sa, now);
	/* lower, or the same renewed: as a report about this SA would be taken */
	if (rec == 0 || mtu > current || (mtu == current && rec <= own))
		return;
	__atomic_store_n(&sa->path_mtu, rec, __ATOMIC_RELAXED);
	dp->mgr_ctr.c[DP_C_pmtu_inherited]++;
}

void dp_pmtu_sa_removed(struct dp_ctx *dp, uint32_t idx, const struct dpsec_sa_conf *conf)
{
	struct dp_sad_key k;
	void *data;

	if (conf->direction != DPSEC_DIR_OUT)
		return;
	key_of_conf(&k, conf);
	if (rte_hash_lookup_data(dp->mgr->out_sas, &k, &data) >= 0 && (uintptr_t)data == idx)
		rte_hash_del_key(dp->mgr->out_sas, &k);
}

/* The outbound SA r names, with the encapsulation r shows, or NULL. */
static struct dp_sa *reported_sa(struct dp_ctx *dp, const struct dp_pmtu_report *r)
{
	struct dp_sad_key k;
	struct dp_sa *sa;
	void *data;

	dp_sa_sad_key(&k, r->spi_be, r->proto, r->family, r->remote);
	if (rte_hash_lookup_data(dp->mgr->out_sas, &k, &data) < 0)
		return NULL;
	sa = dp->sas.sa[(uintptr_t)data];
	if (sa == NULL || r->udp != !!(sa->flags & DP_SA_NATT))
		return NULL;
	return sa;
}

/* The MTU r reports, raised to IPv4's floor; 0 when it cannot be believed:
 * none given (a router before RFC 1191), above 65,535 (an ICMPv6 MTU is 32
 * bits, the SA keeps 16: no link of ours is larger), IPv6 below its
 * minimum, or not below the length of the packet it says did not pass. */
static uint32_t believable_mtu(const struct dp_pmtu_report *r)
{
	uint32_t mtu = r->mtu;

	if (mtu == 0 || mtu > UINT16_MAX || mtu >= r->quoted_len)
		return 0;
	if (r->family == DPSEC_AF_INET6)
		return mtu < DP_PMTU_MIN6 ? 0 : mtu;
	return RTE_MAX(mtu, (uint32_t)DP_PMTU_MIN4);
}

/* The path to r's destination has MTU mtu until age_tsc from now: kept
 * for the peer, and the workers' quick test (dp_ctx.out_fits_len) lets no
 * packet that may not fit it pass unmeasured. Returns the record. */
static uint64_t record_path(struct dp_ctx *dp, const struct dp_pmtu_report *r, uint32_t mtu,
			    uint64_t now, uint64_t age_tsc)
{
	uint64_t until = (now + age_tsc + DP_SA_PMTU_MASK) & ~DP_SA_PMTU_MASK;
	uint32_t fits = mtu > DP_IPSEC_MAX_OVERHEAD ? mtu - DP_IPSEC_MAX_OVERHEAD : 0;
	struct dp_sad_key k;

	if (fits < __atomic_load_n(&dp->out_fits_len, __ATOMIC_RELAXED))
		__atomic_store_n(&dp->out_fits_len, fits, __ATOMIC_RELAXED);
	key_of_peer(&k, r->family, r->remote);
	remember_peer(dp, &k, until | mtu, now);
	dp->mgr->pmtu_until_tsc = RTE_MAX(dp->mgr->pmtu_until_tsc, until);
	dp->mgr_ctr.c[DP_C_pmtu_learned]++;
	return until | mtu;
}

/* A report naming an outbound SA: recorded in it (and for its peer) when
 * it lowers the SA's path MTU (an equal one renews it). */
static bool record_for_sa(struct dp_ctx *dp, const struct dp_pmtu_report *r, uint64_t now,
			  uint64_t age_tsc)
{
	struct dp_sa *sa = reported_sa(dp, r);
	uint32_t mtu = sa != NULL ? believable_mtu(r) : 0;

	if (mtu == 0 || mtu > dp_sa_path_mtu(sa, now))
		return false;
	__atomic_store_n(&sa->path_mtu, record_path(dp, r, mtu, now, age_tsc), __ATOMIC_RELAXED);
	return true;
}

/* A report naming no SA (r->peer_only): recorded for the peer alone when it
 * lowers the peer's record (or renews it), for the scan to hand to its SAs
 * (dp_pmtu_scan_sa). */
static bool record_for_peer(struct dp_ctx *dp, const struct dp_pmtu_report *r, uint64_t now,
			    uint64_t age_tsc)
{
	uint32_t mtu = believable_mtu(r);
	struct dp_sad_key k;
	uint64_t rec;

	key_of_peer(&k, r->family, r->remote);
	rec = peer_record(dp, &k, now);
	if (mtu == 0 || (rec != 0 && mtu > (rec & DP_SA_PMTU_MASK)))
		return false;
	record_path(dp, r, mtu, now, age_tsc);
	return true;
}

/* m, a report that may be about the host's own IKE as much as about our
 * ESP in UDP: the host gets it too, as any ICMP to its address, through
 * the inject ring (counted control_tx); freed without an exception port. */
static void pass_to_host(struct dp_ctx *dp, struct rte_mbuf *m)
{
	const struct dp_port *p;
	struct dp_meta *md = dp_meta(m);

	if (dp->host_port < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	p = &dp->ports[dp->host_port];
	md->flags &= (uint16_t)~DP_M_PMTU;
	dp_push_eth(m, &p->host_mac, &p->mac, md->family);
	dp_mgr_inject(dp, m, (uint16_t)dp->host_port);
}

void dp_pmtu_input(struct dp_ctx *dp, struct rte_mbuf *m)
{
	uint64_t age_tsc = rte_get_tsc_hz() * dp->cfg->opts.pmtu_age_s, now = rte_rdtsc();
	struct dp_pmtu_report r;
	bool parsed = dp_pmtu_parse(m, dp_meta(m), &r), taken = false;

	dp->mgr_ctr.c[DP_C_pmtu_reports]++;
	if (parsed && age_tsc != 0)
		taken = r.peer_only ? record_for_peer(dp, &r, now, age_tsc)
				    : record_for_sa(dp, &r, now, age_tsc);
	if (!taken)
		dp->mgr_ctr.c[DP_C_pmtu_ignored]++;
	if (parsed && r.peer_only)
		pass_to_host(dp, m);
	else
		rte_pktmbuf_free(m);
}

void dp_pmtu_tick(struct dp_ctx *dp)
{
	struct dp_mgr *mgr = dp->mgr;

	if (mgr->pmtu_until_tsc == 0 || rte_rdtsc() < mgr->pmtu_until_tsc)
		return;
	mgr->pmtu_until_tsc = 0;
	rte_hash_reset(mgr->peer_pmtu); /* none of its records holds now */
	dp_icmp_err_setup(dp); /* the ports' MTUs alone */
}
