// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Sieve datapath: identity-aware L3/L4 policy on the host side of each
 * pod's veth, with connection tracking and per-connection verdict events.
 *
 *   tc ingress on the host veth = packets leaving the pod  = EGRESS policy
 *   tc egress  on the host veth = packets entering the pod = INGRESS policy
 *
 * With bpf delivery (SIEVE_CFG_BPF_DELIVERY) the sender's program also judges a local
 * receiver's INGRESS policy and hands the packet over itself; see deliver_local().
 *
 * Headers are read from the linear data, or with bpf_skb_load_bytes where they are not in it.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sieve_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Sizes for 10k pods, as Cilium's defaults (the agent sets them from its flags before load, see
 * MapSizes.java; a map found pinned keeps the size it was made with). */
#define CT_MAP_SIZE      524288 /* --bpf-ct-global-max (Cilium's bpf-ct-global-tcp-max) */
#define IPCACHE_SIZE     512000 /* --bpf-ipcache-map-max (Cilium's cilium_ipcache) */
#define POLICY_MAP_SIZE  1048576 /* --bpf-policy-map-max: one map for every endpoint of the node */
#define ENDPOINTS_SIZE   65535  /* --bpf-endpoint-map-max (Cilium's lxc map) */
#define EVENTS_SIZE      (1 << 22) /* 4 MiB; the loader may change it */

/* Cilium's --bpf-ct-timeout-regular-* defaults: tcp 6h (Cilium 1.x before 8000 s), tcp-syn 60 s until the
 * other side answered, tcp-fin 10 s, any 60 s. A SYN that is never answered ages out in a minute. */
#define CT_LIFETIME_TCP_NS     (21600ULL * 1000000000ULL)
#define CT_LIFETIME_SYN_NS     (60ULL * 1000000000ULL)
#define CT_LIFETIME_NONTCP_NS  (60ULL * 1000000000ULL)
#define CT_LIFETIME_CLOSING_NS (10ULL * 1000000000ULL)

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

#define ICMP_ECHOREPLY      0
#define ICMP_ECHO           8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY   129

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct ipcache_key);
	__type(value, struct ipcache_value);
	__uint(max_entries, IPCACHE_SIZE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sieve_ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct policy_key);
	__type(value, struct policy_value);
	__uint(max_entries, POLICY_MAP_SIZE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} sieve_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* ifindex of the host-side veth */
	__type(value, struct endpoint_info);
	__uint(max_entries, ENDPOINTS_SIZE);
} sieve_endpoints_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32); /* ifindex of the host-side veth, below SIEVE_EP_ARRAY_SIZE */
	__type(value, struct endpoint_info);
	__uint(max_entries, SIEVE_EP_ARRAY_SIZE);
} sieve_ep_array_v2 SEC(".maps");

/* Two addresses (IPv4, IPv6) per endpoint; sized by the agent from --bpf-endpoint-map-max (MapSizes.java). */
#define LXC_SIZE (2 * ENDPOINTS_SIZE)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct lxc_key);
	__type(value, struct lxc_info);
	__uint(max_entries, LXC_SIZE);
} sieve_lxc SEC(".maps");

/* _v2: one entry per connection under its canonical tuple (v1 keyed the first packet's tuple);
 * the agent migrates a v1 map it finds pinned (see ConntrackMigration.java). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct ct_key);
	__type(value, struct ct_value);
	__uint(max_entries, CT_MAP_SIZE);
} sieve_ct_v2 SEC(".maps");

/* _v3: a per-CPU array indexed by metrics_slot() (v1 was a per-CPU hash of metrics_key, v2 had 8
 * reason slots); the verifier inlines the lookup, so counting a packet is an address computation
 * and two adds. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct metrics_value);
	__uint(max_entries, SIEVE_METRICS_SLOTS);
} sieve_metrics_v3 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct metrics_value);
	__uint(max_entries, SIEVE_DROP_SLOTS);
} sieve_drops SEC(".maps");

/*
 * Drop events are rate-limited per connection (endpoint, tuple, drop reason): at most one per
 * SIEVE_DROP_NOTIFY_INTERVAL_NS (F19), as Cilium's monitor aggregation keeps a flood of denied packets from
 * flooding the ring. The counters (sieve_metrics_v3, sieve_drops) still count every packet; the suppressed
 * events are counted at metrics slot (verdict NONE, direction INGRESS, reason 0). Aggregation level NONE reports
 * every drop.
 */
#define SIEVE_DROP_NOTIFY_INTERVAL_NS 1000000000ULL
#define DROP_NOTIFY_SIZE 16384

struct drop_notify_scratch {
	struct ct_key key; /* the tuple as seen, endpoint id, protocol, family; pad = the drop reason */
	__u64 now;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct ct_key);
	__type(value, __u64); /* when the last event of this connection's drops was reported */
	__uint(max_entries, DROP_NOTIFY_SIZE);
} sieve_drop_notify SEC(".maps");

/* emit()'s key and value live here, not on its stack: the from-pod chain is at the verifier's 512 bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct drop_notify_scratch);
	__uint(max_entries, 1);
} sieve_drop_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct config_value);
	__uint(max_entries, 1);
} sieve_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EVENTS_SIZE);
} sieve_events SEC(".maps");

/* Keep the event type in BTF for the layout test even if unused by name. */
const struct verdict_event *unused_verdict_event __attribute__((unused));

/* Parsed packet. */
struct pkt {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;       /* host order; ICMP echo: echo id */
	__u16 dport;
	__u16 policy_port; /* dport, or ICMP type */
	__u8 family;
	__u8 proto;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 tracked;      /* connection tracked (has ports or is ICMP echo) */
	__u8 icmp_reply;   /* ICMP echo reply: only valid as a reply */
	__u8 related;      /* ICMP error quoting a packet whose tuple is in inner_* */
	__u8 inner_proto;
	__u8 frag;         /* FRAG_FIRST: first fragment of several; FRAG_LATER: a later one (no L4 header) */
	__u16 inner_sport;
	__u16 inner_dport;
	__u8 inner_saddr[16];
	__u8 inner_daddr[16];
	__u32 frag_id;     /* the datagram's IP identification, when frag is set */
};

#define FRAG_FIRST 1
#define FRAG_LATER 2

/* Policy decision. */
struct decision {
	__u32 rule_id;
	__u16 proxy_port;
	__u8 action; /* SIEVE_ACTION_* */
};

/*
 * Cold paths are global BPF functions: one copy each in the machine code (the inlined copies made
 * the programs 30 and 18 KB), kept out of the way of the established packets' path, and verified
 * once on their own rather than again at every call site. The verifier cannot assume a global
 * function's pointer arguments are set, hence the checks.
 */
#define SIEVE_GLOBAL __attribute__((noinline))

static __always_inline void copy16(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 16);
}

/*
 * Copies len bytes at off: straight from the packet when they lie in its linear part (headers
 * nearly always do), through bpf_skb_load_bytes otherwise. A helper call per header was a
 * measurable part of the per-packet cost.
 */
static __always_inline int load(struct __sk_buff *skb, __u32 off, void *to, const __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (off < 512 && data + off + len <= end) {
		__builtin_memcpy(to, data + off, len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, to, len);
}

/* Ports (or echo id) of the packet quoted in an ICMP error; 0 on success. */
static __always_inline int parse_inner_ports(struct __sk_buff *skb, __u32 off, struct pkt *p)
{
	__u8 h[8];
	if (load(skb, off, h, sizeof(h)) < 0)
		return -1;
	switch (p->inner_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		p->inner_sport = ((__u16)h[0] << 8) | h[1];
		p->inner_dport = ((__u16)h[2] << 8) | h[3];
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p->inner_sport = ((__u16)h[4] << 8) | h[5];
		p->inner_dport = p->inner_sport;
		return 0;
	default:
		return -1;
	}
}

/*
 * ICMP errors (destination unreachable incl. fragmentation needed, time exceeded, parameter
 * problem, packet too big) quote the packet that caused them; remember its tuple so a
 * connection's own errors pass like replies ("related").
 */
SIEVE_GLOBAL int parse_icmp_error(struct __sk_buff *skb, __u32 off, struct pkt *p)
{
	if (!p)
		return 0;
	if (p->family == 4) {
		struct iphdr ip;
		if (load(skb, off, &ip, sizeof(ip)) < 0 || ip.ihl < 5)
			return 0;
		p->inner_proto = ip.protocol;
		__builtin_memcpy(p->inner_saddr, &ip.saddr, 4);
		__builtin_memcpy(p->inner_daddr, &ip.daddr, 4);
		if (parse_inner_ports(skb, off + ip.ihl * 4, p) == 0)
			p->related = 1;
	} else {
		struct ipv6hdr ip6;
		if (load(skb, off, &ip6, sizeof(ip6)) < 0)
			return 0;
		p->inner_proto = ip6.nexthdr;
		copy16(p->inner_saddr, (__u8 *)&ip6.saddr);
		copy16(p->inner_daddr, (__u8 *)&ip6.daddr);
		if (parse_inner_ports(skb, off + sizeof(ip6), p) == 0)
			p->related = 1;
	}
	return 0;
}

static __always_inline int parse_l4(struct __sk_buff *skb, __u32 off, struct pkt *p)
{
	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr th;
		if (load(skb, off, &th, sizeof(th)) < 0)
			return -1;
		p->sport = bpf_ntohs(th.source);
		p->dport = bpf_ntohs(th.dest);
		p->tcp_flags = ((__u8 *)&th)[13];
		p->policy_port = p->dport;
		p->tracked = 1;
		return 0;
	}
	case IPPROTO_UDP:
	case IPPROTO_SCTP: {
		/* UDP and SCTP both start with source port, destination port */
		__be16 ports[2];
		if (load(skb, off, ports, sizeof(ports)) < 0)
			return -1;
		p->sport = bpf_ntohs(ports[0]);
		p->dport = bpf_ntohs(ports[1]);
		p->policy_port = p->dport;
		p->tracked = 1;
		return 0;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		__u8 h[8]; /* type, code, csum, id, seq */
		if (load(skb, off, h, sizeof(h)) < 0)
			return -1;
		p->icmp_type = h[0];
		p->icmp_code = h[1];
		p->policy_port = h[0];
		__u16 id = ((__u16)h[4] << 8) | h[5];
		__u8 req = p->proto == IPPROTO_ICMP ? ICMP_ECHO : ICMPV6_ECHO_REQUEST;
		__u8 rep = p->proto == IPPROTO_ICMP ? ICMP_ECHOREPLY : ICMPV6_ECHO_REPLY;
		if (h[0] == req || h[0] == rep) {
			p->sport = id;
			p->dport = id;
			p->tracked = 1;
			p->icmp_reply = h[0] == rep;
		} else if (p->proto == IPPROTO_ICMP ? (h[0] == 3 || h[0] == 11 || h[0] == 12) :
						      (h[0] >= 1 && h[0] <= 4)) {
			parse_icmp_error(skb, off + 8, p);
		}
		return 0;
	}
	default:
		return 0;
	}
}

static __always_inline int ipv6_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT;
}

/* Where the walk over IPv6 extension headers is: offset and type of the next header. */
struct ipv6_walk {
	__u32 off;
	__u32 frag_id;
	__u8 nh;
	__u8 frag; /* FRAG_FIRST / FRAG_LATER when a fragment header was walked */
};

/*
 * Skips up to 4 IPv6 extension headers from w, leaving it at the upper-layer header. Returns 0,
 * 1 for a non-first fragment (w at the fragment's next header), or -reason.
 */
SIEVE_GLOBAL int skip_ipv6_ext(struct __sk_buff *skb, struct ipv6_walk *w)
{
	if (!w)
		return -SIEVE_DROP_INVALID_IPV6_EXTHDR;
	__u32 off = w->off;
	__u8 nh = w->nh;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (!ipv6_ext(nh))
			break;
		__u8 ext[8] = {}; /* written before the helper may write it: see the 6.18 verifier note in README */
		if (load(skb, off, ext, sizeof(ext)) < 0)
			return -SIEVE_DROP_INVALID_IPV6_EXTHDR;
		if (nh == IPPROTO_FRAGMENT) {
			__u16 frag = ((__u16)ext[2] << 8) | ext[3];
			nh = ext[0];
			off += 8;
			w->frag_id = ((__u32)ext[4] << 24) | ((__u32)ext[5] << 16) | ((__u32)ext[6] << 8) | ext[7];
			if (frag & 0xfff8) {
				w->off = off;
				w->nh = nh;
				w->frag = FRAG_LATER;
				return 1;
			}
			if (frag & 1)
				w->frag = FRAG_FIRST;
		} else {
			nh = ext[0];
			off += ((__u32)ext[1] + 1) * 8;
		}
	}
	if (ipv6_ext(nh))
		return -SIEVE_DROP_INVALID_IPV6_EXTHDR;
	w->off = off;
	w->nh = nh;
	return 0;
}

/* Returns 0 ok, 1 not IP (pass), 2 ICMPv6 neighbour discovery (pass), <0 drop reason. */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p)
{
	__be16 proto;
	if (load(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)) < 0)
		return 1;
	__u32 off = sizeof(struct ethhdr);

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (load(skb, off, &ip, sizeof(ip)) < 0)
			return -SIEVE_DROP_INVALID_PACKET;
		if (ip.ihl < 5 || ip.version != 4)
			return -SIEVE_DROP_INVALID_PACKET;
		p->family = 4;
		p->proto = ip.protocol;
		__builtin_memcpy(p->saddr, &ip.saddr, 4);
		__builtin_memcpy(p->daddr, &ip.daddr, 4);
		/* Non-first fragments carry no L4 header: ports stay 0 unless the first fragment's were
		 * remembered (frag_track()). */
		if (ip.frag_off & bpf_htons(0x3fff)) {
			p->frag_id = bpf_ntohs(ip.id);
			p->frag = (ip.frag_off & bpf_htons(0x1fff)) ? FRAG_LATER : FRAG_FIRST;
			if (p->frag == FRAG_LATER)
				return 0;
		}
		off += ip.ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (load(skb, off, &ip6, sizeof(ip6)) < 0)
			return -SIEVE_DROP_INVALID_PACKET;
		p->family = 6;
		copy16(p->saddr, (__u8 *)&ip6.saddr);
		copy16(p->daddr, (__u8 *)&ip6.daddr);
		__u8 nh = ip6.nexthdr;
		off += sizeof(ip6);
		if (ipv6_ext(nh)) {
			struct ipv6_walk w = {.off = off, .nh = nh};
			int rc = skip_ipv6_ext(skb, &w);
			if (rc < 0)
				return rc;
			off = w.off;
			nh = w.nh;
			p->frag = w.frag;
			p->frag_id = w.frag_id;
			if (rc == 1) { /* non-first fragment */
				p->proto = nh;
				return 0;
			}
		}
		p->proto = nh;
	} else {
		return 1;
	}

	if (parse_l4(skb, off, p) < 0)
		return -SIEVE_DROP_CT_INVALID_HDR;
	/* Router/neighbour solicitation/advertisement, redirect: link plumbing. */
	if (p->proto == IPPROTO_ICMPV6 && p->icmp_type >= 133 && p->icmp_type <= 137)
		return 2;
	return 0;
}

/*
 * Fragments (F22, as Cilium's fragment map): the first fragment of a TCP/UDP/SCTP datagram leaves its ports under
 * (addresses, IP identification, protocol); a later fragment that finds them is judged with them, like the rest of
 * its connection, rather than with port 0. A later fragment whose first was not seen (or has aged out of the LRU)
 * is still judged with port 0.
 */
struct frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id;
	__u8 proto;
	__u8 family;
	__u16 pad;
};

struct frag_ports {
	__u16 sport;
	__u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct frag_key);
	__type(value, struct frag_ports);
	__uint(max_entries, 8192); /* Cilium's bpf-fragments-map-max */
} sieve_frags SEC(".maps");

SIEVE_GLOBAL int frag_track(struct pkt *p)
{
	if (!p || (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP && p->proto != IPPROTO_SCTP))
		return 0;
	struct frag_key k = {};
	copy16(k.saddr, p->saddr);
	copy16(k.daddr, p->daddr);
	k.id = p->frag_id;
	k.proto = p->proto;
	k.family = p->family;
	if (p->frag == FRAG_FIRST) {
		struct frag_ports v = {.sport = p->sport, .dport = p->dport};
		bpf_map_update_elem(&sieve_frags, &k, &v, BPF_ANY);
		return 0;
	}
	struct frag_ports *v = bpf_map_lookup_elem(&sieve_frags, &k);
	if (v) {
		p->sport = v->sport;
		p->dport = v->dport;
		p->policy_port = v->dport;
		p->tracked = 1;
	}
	return 0;
}

static __always_inline __u32 ipcache_identity(__u8 family, const __u8 *addr)
{
	struct ipcache_key k = {};
	k.prefixlen = 32 + (family == 4 ? 32 : 128);
	k.family = family;
	if (family == 4)
		__builtin_memcpy(k.addr, addr, 4);
	else
		copy16(k.addr, addr);
	struct ipcache_value *v = bpf_map_lookup_elem(&sieve_ipcache, &k);
	return v ? v->identity : SIEVE_ID_WORLD;
}

/*
 * Combine the peer-specific and the any-peer lookups: DENY beats ALLOW beats
 * REDIRECT; within one action the lowest rule id names the verdict.
 */
static __always_inline void combine(struct decision *d, const struct policy_value *v)
{
	if (!v || v->action == SIEVE_ACTION_NONE)
		return;
	int rank_new = v->action == SIEVE_ACTION_DENY ? 3 : v->action == SIEVE_ACTION_ALLOW ? 2 : 1;
	int rank_old = d->action == SIEVE_ACTION_DENY ? 3 : d->action == SIEVE_ACTION_ALLOW ? 2 :
		       d->action == SIEVE_ACTION_REDIRECT ? 1 : 0;
	if (rank_new > rank_old ||
	    (rank_new == rank_old && (v->rule_id < d->rule_id ||
				      (v->rule_id == d->rule_id && v->proxy_port < d->proxy_port)))) {
		d->action = v->action;
		d->rule_id = v->rule_id;
		d->proxy_port = v->proxy_port;
	}
}

static __always_inline void policy_lookup(const struct endpoint_info *ep, __u8 dir, __u32 peer_id,
					  __u8 proto, __u16 port, struct decision *d)
{
	struct policy_key k = {
		.prefixlen = POLICY_FULL_PREFIX,
		.endpoint_id = ep->endpoint_id,
		.identity = peer_id,
		.direction = dir,
		.protocol = proto,
		.dport = bpf_htons(port),
	};
	d->action = SIEVE_ACTION_NONE;
	d->rule_id = 0;
	d->proxy_port = 0;
	combine(d, bpf_map_lookup_elem(&sieve_policy, &k));
	if (peer_id != SIEVE_ID_ANY) {
		k.identity = SIEVE_ID_ANY;
		combine(d, bpf_map_lookup_elem(&sieve_policy, &k));
	}
}

static __always_inline void count(__u8 verdict, __u8 dir, __u16 reason, __u32 len)
{
	__u32 slot = metrics_slot(verdict, dir, reason);
	struct metrics_value *v = bpf_map_lookup_elem(&sieve_metrics_v3, &slot);
	if (v) {
		v->packets += 1;
		v->bytes += len;
	}
}

/* The (reason, protocol) counter of a dropped packet, counted in emit(), which every drop reports through: exact,
 * whether or not the event reaches the ring. (Counted inline beside count(), the 6.18 verifier trips over the grown
 * program: "stack slot 0, total slots 0".) */
static __always_inline void count_drop(__u32 reason, __u32 proto, __u32 len)
{
	__u32 slot = drop_slot(reason, proto);
	struct metrics_value *v = bpf_map_lookup_elem(&sieve_drops, &slot);
	if (v) {
		v->packets += 1;
		v->bytes += len;
	}
}

/* What an event reports besides the packet and the endpoint. */
struct report {
	__u32 peer_id;
	__u32 rule_id;
	__u16 reason;
	__u16 proxy_port;
	__u8 verdict;
	__u8 flags; /* SIEVE_EVF_* */
};

/* Where a packet is judged: the endpoint's host-side interface (as events report it), the policy
 * direction, the aggregation level. */
struct judge_at {
	__u32 ifindex;
	__u8 dir;
	__u8 agg;
	__u8 ct_missing; /* judge() found no conntrack entry: judge_slow() need not look again */
	__u8 from_proxy; /* the L7 proxy's upstream packet (SIEVE_MARK_PROXY_*): judged, never redirected */
};

/* Whether a drop of this connection (endpoint, tuple, reason) was reported less than the interval ago; if not, it is
 * reported now and remembered. */
static __always_inline int drop_notify_suppressed(const struct pkt *p, const struct endpoint_info *ep, __u16 reason)
{
	__u32 zero = 0;
	struct drop_notify_scratch *sc = bpf_map_lookup_elem(&sieve_drop_scratch, &zero);
	if (!sc)
		return 0;
	copy16(sc->key.saddr, p->saddr);
	copy16(sc->key.daddr, p->daddr);
	sc->key.sport = p->sport;
	sc->key.dport = p->dport;
	sc->key.endpoint_id = ep->endpoint_id;
	sc->key.protocol = p->proto;
	sc->key.family = p->family;
	sc->key.pad = reason;
	sc->now = bpf_ktime_get_coarse_ns();
	__u64 *last = bpf_map_lookup_elem(&sieve_drop_notify, &sc->key);
	if (last && sc->now - *last < SIEVE_DROP_NOTIFY_INTERVAL_NS)
		return 1;
	if (last)
		*last = sc->now;
	else
		bpf_map_update_elem(&sieve_drop_notify, &sc->key, &sc->now, BPF_ANY);
	return 0;
}

/* Writes an event to the ring buffer. */
SIEVE_GLOBAL int emit(struct __sk_buff *skb, const struct pkt *p, const struct endpoint_info *ep,
		      const struct judge_at *at, const struct report *r)
{
	if (!p || !ep || !at || !r)
		return 0;
	if (r->verdict == SIEVE_VERDICT_DROPPED) {
		count_drop(r->reason, p->proto, skb->len);
		if (at->agg != SIEVE_AGG_NONE && drop_notify_suppressed(p, ep, r->reason)) {
			count(SIEVE_VERDICT_NONE, SIEVE_DIR_INGRESS, 0, 0);
			return 0;
		}
	}
	struct verdict_event *e = bpf_ringbuf_reserve(&sieve_events, sizeof(*e), 0);
	if (!e) {
		/* the ring is full: count the lost event so the agent can report it */
		count(SIEVE_VERDICT_NONE, SIEVE_DIR_NONE, 0, 0);
		return 0;
	}
	e->timestamp_ns = bpf_ktime_get_ns();
	copy16(e->src_addr, p->saddr);
	copy16(e->dst_addr, p->daddr);
	if (at->dir == SIEVE_DIR_EGRESS) {
		e->src_identity = ep->identity;
		e->dst_identity = r->peer_id;
	} else {
		e->src_identity = r->peer_id;
		e->dst_identity = ep->identity;
	}
	e->rule_id = r->rule_id;
	e->endpoint_id = ep->endpoint_id;
	e->ifindex = at->ifindex;
	e->packet_len = skb->len;
	e->src_port = p->sport;
	e->dst_port = p->dport;
	e->drop_reason = r->reason;
	e->proxy_port = r->proxy_port;
	e->verdict = r->verdict;
	e->direction = at->dir;
	e->family = p->family;
	e->protocol = p->proto;
	e->tcp_flags = p->tcp_flags;
	e->flags = r->flags | (ep->audit ? SIEVE_EVF_AUDIT : 0);
	e->icmp_type = p->icmp_type;
	e->icmp_code = p->icmp_code;
	/* No wakeup per event: the reader drains the ring on a short timer, and is woken only once
	 * an eighth of the ring is waiting. A wakeup per event costs a context switch per new
	 * connection on the CPUs that carry the traffic. */
	__u64 waiting = bpf_ringbuf_query(&sieve_events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&sieve_events, BPF_RB_RING_SIZE);
	bpf_ringbuf_submit(e, waiting >= size / 8 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 0;
}

/* emit() with the report's fields as arguments (a BPF subprogram takes at most five). */
static __always_inline void report_event(struct __sk_buff *skb, const struct pkt *p,
					 const struct endpoint_info *ep, const struct judge_at *at,
					 __u32 peer_id, __u8 verdict, __u16 reason, __u32 rule_id,
					 __u16 proxy_port, __u8 flags)
{
	struct report r = {
		.peer_id = peer_id,
		.rule_id = rule_id,
		.reason = reason,
		.proxy_port = proxy_port,
		.verdict = verdict,
		.flags = flags,
	};
	emit(skb, p, ep, at, &r);
}

static __always_inline __u8 flag_mask(__u32 agg)
{
	if (agg == SIEVE_AGG_LOW)
		return 0xff;
	if (agg == SIEVE_AGG_MEDIUM)
		return TCPF_SYN | TCPF_FIN | TCPF_RST;
	return TCPF_FIN | TCPF_RST;
}

/*
 * Compares (a, pa) with (b, pb): addresses as big-endian numbers (IPv4 in the first word), then
 * ports; 1 after, -1 before, 0 equal. Addresses are 16 bytes, 4-byte aligned.
 */
static __always_inline int tuple_cmp(const __u8 *a, __u16 pa, const __u8 *b, __u16 pb)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u32 u = bpf_ntohl(x[i]), v = bpf_ntohl(y[i]);
		if (u != v)
			return u > v ? 1 : -1;
	}
	return pa > pb ? 1 : pa < pb ? -1 : 0;
}

/*
 * The canonical conntrack key of a tuple (lower side first). Returns tuple_cmp(source,
 * destination): > 0 when the source went to the key's daddr side ("swapped"), 0 when both ends
 * are equal.
 */
static __always_inline int fill_ct_key(struct ct_key *k, const __u8 *saddr, const __u8 *daddr,
				       __u16 sport, __u16 dport, __u8 proto, __u8 family, __u32 ep_id)
{
	int cmp = tuple_cmp(saddr, sport, daddr, dport);
	__builtin_memset(k, 0, sizeof(*k));
	if (cmp > 0) {
		copy16(k->saddr, daddr);
		copy16(k->daddr, saddr);
		k->sport = dport;
		k->dport = sport;
	} else {
		copy16(k->saddr, saddr);
		copy16(k->daddr, daddr);
		k->sport = sport;
		k->dport = dport;
	}
	k->endpoint_id = ep_id;
	k->protocol = proto;
	k->family = family;
	return cmp;
}

/*
 * last_seen_ns is refreshed once this many jiffies have passed since the last refresh: 0.1 s to
 * 1 s (HZ 1000 to 100), shorter than every lifetime, so an entry refreshed within it has not
 * expired. Counting in jiffies keeps the clock read off the established packets' path (reading
 * jiffies costs next to nothing; even the coarse clock is a sixth of that path). A refresh is a
 * write to an entry both directions read, which is why it is not done on every packet.
 */
#define CT_REFRESH_JIFFIES 100

static __always_inline int ct_refresh_due(const struct ct_value *ct, __u32 tick)
{
	return tick - ct->refreshed_jiffies > CT_REFRESH_JIFFIES;
}

static __always_inline int ct_expired(const struct ct_value *v, __u8 proto, __u64 now)
{
	__u64 life = v->closing ? CT_LIFETIME_CLOSING_NS :
		     proto != IPPROTO_TCP ? CT_LIFETIME_NONTCP_NS :
		     v->seen_reply ? CT_LIFETIME_TCP_NS : CT_LIFETIME_SYN_NS;
	/* signed: an entry stamped a moment ago by a finer clock (the agent's) is not in the future */
	return (__s64)(now - v->last_seen_ns) > (__s64)life;
}

/*
 * How a packet relates to the conntrack entry found under its canonical key (cmp as fill_ct_key
 * returned it): 0 original direction, 1 reply, -1 neither. From the side that opened it and in its
 * direction: original; from the other side in the other direction: reply. A tuple whose two ends
 * are equal can only be told apart by direction. Anything else (the opener's tuple in the other
 * direction, a spoofed source) is judged without the entry and leaves it alone.
 */
static __always_inline int ct_role(const struct ct_value *ct, int cmp, __u8 dir, const struct pkt *p)
{
	int from_opener = (cmp > 0) == ct->orig_swapped;
	if (ct->direction == dir && from_opener && !p->icmp_reply)
		return 0;
	if (ct->direction != dir && (!from_opener || cmp == 0))
		return 1;
	return -1;
}

/* The verdict an established connection's packets get from its entry. */
static __always_inline __u8 ct_verdict(const struct ct_value *ct)
{
	return ct->action == SIEVE_ACTION_AUDIT ? SIEVE_VERDICT_AUDIT :
	       ct->action == SIEVE_ACTION_REDIRECT ? SIEVE_VERDICT_REDIRECTED : SIEVE_VERDICT_FORWARDED;
}

/* A bare SYN on a known tuple is a new connection reusing the tuple. */
static __always_inline int syn_only(const struct pkt *p)
{
	return p->proto == IPPROTO_TCP && (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN;
}

/* Decide for a packet whose connection is not known, or must be re-checked. */
static __always_inline void decide(const struct endpoint_info *ep, __u8 dir, __u32 peer_id,
				   __u8 proto, __u16 port, struct decision *d, __u8 *verdict,
				   __u16 *reason)
{
	policy_lookup(ep, dir, peer_id, proto, port, d);
	*reason = 0;
	if (d->action == SIEVE_ACTION_DENY) {
		*reason = SIEVE_DROP_POLICY_DENY;
	} else if (d->action == SIEVE_ACTION_NONE) {
		int enforce = dir == SIEVE_DIR_INGRESS ? ep->enforce_ingress : ep->enforce_egress;
		if (enforce)
			*reason = SIEVE_DROP_POLICY_DENIED;
		else
			d->action = SIEVE_ACTION_ALLOW;
	}
	if (*reason) {
		if (ep->audit) {
			*verdict = SIEVE_VERDICT_AUDIT;
			d->action = SIEVE_ACTION_AUDIT;
		} else {
			*verdict = SIEVE_VERDICT_DROPPED;
		}
	} else {
		*verdict = d->action == SIEVE_ACTION_REDIRECT ? SIEVE_VERDICT_REDIRECTED :
								SIEVE_VERDICT_FORWARDED;
	}
}

static __always_inline int addr_eq(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/*
 * Whether an ICMP error travels the way an error about its quoted packet would. The error goes
 * back to the quoted packet's sender: outer destination = quoted source. Leaving the pod, the
 * pod reports a packet it received: outer source = quoted destination (the pod's own address,
 * see source_valid()). Entering the pod, the reporter is the quoted destination or a router on
 * the path; a router is never a pod, so the source's identity must be a reserved one (host,
 * world, below 256) or a CIDR's (local scope, 2^24 and up), never another workload's. Anything
 * else (a pod quoting its allowed connection to carry data elsewhere, another pod forging errors
 * about it) is judged by policy like any ICMP packet.
 */
static __always_inline int related_consistent(const struct pkt *p, __u8 dir)
{
	if (!addr_eq(p->inner_saddr, p->daddr))
		return 0;
	if (addr_eq(p->inner_daddr, p->saddr))
		return 1;
	if (dir != SIEVE_DIR_INGRESS)
		return 0;
	__u32 id = ipcache_identity(p->family, p->saddr);
	return id < 256 || id >= (1U << 24);
}

/* What judge() / handle() decided for a packet. */
#define JUDGED_PASS     0
#define JUDGED_PROXY    1 /* for the L7 proxy's socket: skb->mark = TO_PROXY | port << 16 (port 0: an established
			   * socket only, the reply leg of the proxy's upstream connection) */
#define JUDGED_DROP     2
#define JUDGED_NONE     3 /* not judged (no endpoint here, not IP, neighbour discovery): passes untouched */

/* skb->mark for packets the L7 proxy must take: TO_PROXY | proxy port << 16 (Cilium's layout). */
static __always_inline int judged_proxy(struct __sk_buff *skb, __u16 proxy_port)
{
	skb->mark = ((__u32)proxy_port << 16) | SIEVE_MARK_TO_PROXY;
	return JUDGED_PROXY;
}

/* The proxy's own upstream packets pass where the policy redirects: the proxy has judged the connection. */
static __always_inline void unredirect(const struct judge_at *at, struct decision *d, __u8 *verdict)
{
	if (at->from_proxy && d->action == SIEVE_ACTION_REDIRECT) {
		d->action = SIEVE_ACTION_ALLOW;
		d->proxy_port = 0;
		*verdict = SIEVE_VERDICT_FORWARDED;
	}
}

/* The lxc entry of a local endpoint's address, or NULL. */
static __always_inline struct lxc_info *lxc_at(__u8 family, const __u8 *addr)
{
	struct lxc_key k = {.family = family};
	if (family == 4)
		__builtin_memcpy(k.addr, addr, 4);
	else
		copy16(k.addr, addr);
	return bpf_map_lookup_elem(&sieve_lxc, &k);
}

static __always_inline int mac_set(const __u8 *m)
{
	const __u16 *w = (const __u16 *)m;
	return (w[0] | w[1] | w[2]) != 0;
}

/*
 * Fills the lxc entry's pod MAC from a packet the pod sent (its Ethernet source), when the agent could not
 * (the host had not resolved the pod's neighbour entry) or it changed. Only the entry of the interface the
 * packet came in on: a pod cannot write another's. Called on the slow path only (new connections, first
 * replies, flag changes), so the established packets' path pays nothing for it.
 */
SIEVE_GLOBAL int learn_pod_mac(struct __sk_buff *skb, const struct pkt *p)
{
	if (!p)
		return 0;
	struct lxc_info *e = lxc_at(p->family, p->saddr);
	if (!e || e->ifindex != skb->ifindex)
		return 0;
	__u16 src[3];
	if (load(skb, ETH_ALEN, src, ETH_ALEN) < 0)
		return 0;
	__u16 *have = (__u16 *)e->mac;
	if (have[0] != src[0] || have[1] != src[1] || have[2] != src[2]) {
		have[0] = src[0];
		have[1] = src[1];
		have[2] = src[2];
	}
	return 0;
}

/*
 * Judges the parsed packet p against endpoint ep's policy at "at": conntrack, policy, counters
 * and events; everything judge() does not settle itself.
 */
SIEVE_GLOBAL int judge_slow(struct __sk_buff *skb, const struct pkt *p, const struct endpoint_info *ep,
			    const struct judge_at *at)
{
	if (!p || !ep || !at)
		return JUDGED_DROP;
	const __u8 dir = at->dir;
	const __u32 agg = at->agg;
	/* The peer's identity is looked up only where it is needed: an established connection that
	 * reports nothing never pays for the LPM lookup. */
	const __u8 *peer_addr = dir == SIEVE_DIR_EGRESS ? p->daddr : p->saddr;
	__u32 peer_id;
	/* CLOCK_MONOTONIC at tick granularity: half the exact clock's cost here, and conntrack
	 * lifetimes are seconds to hours. */
	__u64 now = bpf_ktime_get_coarse_ns();
	struct decision d = {};
	__u8 verdict;
	__u16 reason;

	if (ep->flags & SIEVE_EPF_NOT_READY) {
		/* the agent could not program this endpoint fully (a map was full): nothing passes (F5). Here, not in
		 * handle(): the same test there trips the 6.18 verifier ("stack slot 0, total slots 0"). */
		count(SIEVE_VERDICT_DROPPED, dir, SIEVE_DROP_EP_NOT_READY, skb->len);
		report_event(skb, p, ep, at, SIEVE_ID_WORLD, SIEVE_VERDICT_DROPPED, SIEVE_DROP_EP_NOT_READY, 0, 0, 0);
		return JUDGED_DROP;
	}
	if (dir == SIEVE_DIR_EGRESS)
		learn_pod_mac(skb, p);
	struct ct_key k;
	if (p->related) {
		/* An ICMP error about a connection this endpoint tracks passes like a reply, if it travels
		 * the way that connection's error would: see related_consistent(). */
		if (!related_consistent(p, dir))
			goto stateless;
		fill_ct_key(&k, p->inner_saddr, p->inner_daddr, p->inner_sport, p->inner_dport, p->inner_proto,
			    p->family, ep->endpoint_id);
		struct ct_value *ct = bpf_map_lookup_elem(&sieve_ct_v2, &k);
		if (ct && !ct_expired(ct, p->inner_proto, now) &&
		    ct->policy_revision == ep->policy_revision) {
			count(SIEVE_VERDICT_FORWARDED, dir, 0, skb->len);
			if (agg != SIEVE_AGG_MAX) /* rare and telling (PMTU, unreachable) */
				report_event(skb, p, ep, at, ipcache_identity(p->family, peer_addr), SIEVE_VERDICT_FORWARDED, 0, ct->rule_id, 0,
				     SIEVE_EVF_REPLY);
			return JUDGED_PASS;
		}
		goto stateless;
	}

	if (p->tracked) {
		int reply = 0;
		int cmp = fill_ct_key(&k, p->saddr, p->daddr, p->sport, p->dport, p->proto, p->family,
				      ep->endpoint_id);
		struct ct_value *ct = at->ct_missing ? NULL : bpf_map_lookup_elem(&sieve_ct_v2, &k);
		if (ct && ct_expired(ct, p->proto, now)) {
			bpf_map_delete_elem(&sieve_ct_v2, &k);
			ct = NULL;
		}
		if (ct) {
			reply = ct_role(ct, cmp, dir, p);
			if (reply < 0)
				goto stateless;
		}
		if (ct && !(syn_only(p) && !reply)) {
			__u8 evflags = reply ? SIEVE_EVF_REPLY : 0;
			if (ct->policy_revision != ep->policy_revision) {
				/* Policy changed since the verdict: ask again, for the original direction. */
				peer_id = ipcache_identity(p->family, peer_addr);
				decide(ep, ct->direction, peer_id, p->proto, ct->policy_port, &d, &verdict, &reason);
				if (ct->flags & SIEVE_CTF_PROXY_LEG && d.action == SIEVE_ACTION_REDIRECT) {
					d.action = SIEVE_ACTION_ALLOW;
					d.proxy_port = 0;
				}
				if (verdict == SIEVE_VERDICT_DROPPED) {
					bpf_map_delete_elem(&sieve_ct_v2, &k);
					count(verdict, dir, reason, skb->len);
					report_event(skb, p, ep, at, peer_id, verdict, reason, d.rule_id, 0,
					     evflags | SIEVE_EVF_RECHECK);
					return JUDGED_DROP;
				}
				ct->policy_revision = ep->policy_revision;
				ct->action = d.action;
				ct->rule_id = d.rule_id;
				ct->proxy_port = d.proxy_port;
			}
			verdict = ct_verdict(ct);
			reason = 0;
			int report = agg == SIEVE_AGG_NONE;
			__u8 fl = p->tcp_flags;
			/* Write the shared conntrack entry only when something changed: a store on every packet
			 * bounces its cache line between CPUs and costs throughput. */
			if (reply) {
				if (!ct->seen_reply) {
					ct->seen_reply = 1;
					if (agg != SIEVE_AGG_MAX)
						report = 1;
				}
				if ((fl & ~ct->flags_rev) & flag_mask(agg))
					report = 1;
				if (fl & ~ct->flags_rev)
					ct->flags_rev |= fl;
			} else {
				if ((fl & ~ct->flags_fwd) & flag_mask(agg))
					report = 1;
				if (fl & ~ct->flags_fwd)
					ct->flags_fwd |= fl;
			}
			if ((fl & (TCPF_FIN | TCPF_RST)) && !ct->closing) {
				ct->closing = 1;
			}
			if (fl & (TCPF_FIN | TCPF_RST))
				evflags |= SIEVE_EVF_CLOSE;
			__u32 tick = bpf_jiffies64();
			if (ct_refresh_due(ct, tick)) {
				ct->last_seen_ns = now;
				ct->refreshed_jiffies = tick;
			}
			count(verdict, dir, 0, skb->len);
			if (report)
				report_event(skb, p, ep, at, ipcache_identity(p->family, peer_addr), verdict, 0,
				     ct->rule_id, ct->proxy_port, evflags);
			if (ct->action == SIEVE_ACTION_REDIRECT && !reply)
				return judged_proxy(skb, ct->proxy_port);
			if ((ct->flags & SIEVE_CTF_PROXY_LEG) && reply)
				return judged_proxy(skb, 0);
			return JUDGED_PASS;
		}
		if (p->icmp_reply) {
			/* An echo reply without a request: judge it like any new packet. */
			goto stateless;
		}
		peer_id = ipcache_identity(p->family, peer_addr);
		decide(ep, dir, peer_id, p->proto, p->policy_port, &d, &verdict, &reason);
		unredirect(at, &d, &verdict);
		count(verdict, dir, reason, skb->len);
		__u8 newflags = at->from_proxy ? SIEVE_EVF_NEW | SIEVE_EVF_FROM_PROXY : SIEVE_EVF_NEW;
		if (verdict == SIEVE_VERDICT_DROPPED) {
			report_event(skb, p, ep, at, peer_id, verdict, reason, d.rule_id, 0, newflags);
			return JUDGED_DROP;
		}
		struct ct_value nv = {
			.last_seen_ns = now,
			.refreshed_jiffies = bpf_jiffies64(),
			.created_ns = now,
			.rule_id = d.rule_id,
			.policy_revision = ep->policy_revision,
			.proxy_port = d.proxy_port,
			.policy_port = p->policy_port,
			.action = d.action,
			.direction = dir,
			.flags_fwd = p->tcp_flags,
			.orig_swapped = cmp > 0,
			.flags = at->from_proxy ? SIEVE_CTF_PROXY_LEG : 0,
		};
		if (bpf_map_update_elem(&sieve_ct_v2, &k, &nv, BPF_ANY) < 0) {
			count(SIEVE_VERDICT_DROPPED, dir, SIEVE_DROP_CT_MAP_INSERT_FAILED, skb->len);
			report_event(skb, p, ep, at, peer_id, SIEVE_VERDICT_DROPPED,
			     SIEVE_DROP_CT_MAP_INSERT_FAILED, d.rule_id, 0, newflags);
			return JUDGED_DROP;
		}
		report_event(skb, p, ep, at, peer_id, verdict, reason, d.rule_id, d.proxy_port, newflags);
		if (d.action == SIEVE_ACTION_REDIRECT)
			return judged_proxy(skb, d.proxy_port);
		return JUDGED_PASS;
	}

stateless:
	/* Not connection-tracked (ICMP errors and other types, unknown L4, fragments). */
	peer_id = ipcache_identity(p->family, peer_addr);
	decide(ep, dir, peer_id, p->proto, p->policy_port, &d, &verdict, &reason);
	unredirect(at, &d, &verdict);
	count(verdict, dir, reason, skb->len);
	report_event(skb, p, ep, at, peer_id, verdict, reason, d.rule_id, d.proxy_port, SIEVE_EVF_NEW);
	if (verdict == SIEVE_VERDICT_DROPPED)
		return JUDGED_DROP;
	if (d.action == SIEVE_ACTION_REDIRECT)
		return judged_proxy(skb, d.proxy_port);
	return JUDGED_PASS;
}

/*
 * Judges the parsed packet p against endpoint ep's policy at "at". The common case, a packet of a
 * known connection that changes nothing in its conntrack entry and reports nothing, is settled
 * here with one conntrack lookup and no writes; anything else (new or unknown connection, new
 * TCP flags, first reply, close, policy revision changed, last_seen due, aggregation none) goes
 * to judge_slow(), which looks again and does the full work.
 */
#define JUDGED_SLOW -1 /* judge_fast() cannot settle it: judge_slow() must */

static __always_inline int judge_fast(struct __sk_buff *skb, const struct pkt *p, const struct endpoint_info *ep,
				      struct judge_at *at)
{
	/* a bare SYN opens a connection (or reuses a tuple): judge_slow() looks it up once */
	if (!p->tracked || p->related || at->agg == SIEVE_AGG_NONE || syn_only(p) || (ep->flags & SIEVE_EPF_NOT_READY))
		return JUDGED_SLOW;
	struct ct_key k;
	int cmp = fill_ct_key(&k, p->saddr, p->daddr, p->sport, p->dport, p->proto, p->family,
			      ep->endpoint_id);
	struct ct_value *ct = bpf_map_lookup_elem(&sieve_ct_v2, &k);
	if (!ct) {
		at->ct_missing = 1;
		return JUDGED_SLOW;
	}
	if (ct->policy_revision != ep->policy_revision)
		return JUDGED_SLOW;
	int reply = ct_role(ct, cmp, at->dir, p);
	if (reply < 0 || (reply && !ct->seen_reply))
		return JUDGED_SLOW;
	__u8 fl = p->tcp_flags;
	if ((fl & ~(reply ? ct->flags_rev : ct->flags_fwd)) || (fl & (TCPF_FIN | TCPF_RST)))
		return JUDGED_SLOW;
	/* Refreshed within CT_REFRESH_JIFFIES is also not expired: every lifetime is longer. (After
	 * 2^32 jiffies of silence the test can wrongly pass for an instant; the entry's verdict is
	 * still the current policy's, as the revision matched.) */
	if (ct_refresh_due(ct, bpf_jiffies64()))
		return JUDGED_SLOW;
	count(ct_verdict(ct), at->dir, 0, skb->len);
	if (ct->action == SIEVE_ACTION_REDIRECT && !reply)
		return judged_proxy(skb, ct->proxy_port);
	if ((ct->flags & SIEVE_CTF_PROXY_LEG) && reply)
		return judged_proxy(skb, 0);
	return JUDGED_PASS;
}

static __always_inline int judge(struct __sk_buff *skb, const struct pkt *p, const struct endpoint_info *ep,
				 struct judge_at *at)
{
	int v = judge_fast(skb, p, ep, at);
	return v != JUDGED_SLOW ? v : judge_slow(skb, p, ep, at);
}

/*
 * judge_fast() as a function of its own, for bpf delivery's second judgement (the receiver's ingress): inlined
 * there, the from-pod program's stack would pass the verifier's 512 bytes with judge_slow() and emit() below it.
 * A leaf: its frame (the conntrack key) adds to the from-pod frame only.
 */
SIEVE_GLOBAL int judge_receiver_fast(struct __sk_buff *skb, const struct pkt *p, const struct endpoint_info *ep,
				     struct judge_at *at)
{
	if (!p || !ep || !at)
		return JUDGED_SLOW;
	return judge_fast(skb, p, ep, at);
}

/* The endpoint behind host veth ifindex, or NULL. */
static __always_inline struct endpoint_info *endpoint_at(__u32 ifindex)
{
	if (ifindex < SIEVE_EP_ARRAY_SIZE) {
		struct endpoint_info *ep = bpf_map_lookup_elem(&sieve_ep_array_v2, &ifindex);
		return ep && ep->present ? ep : NULL;
	}
	return bpf_map_lookup_elem(&sieve_endpoints_v2, &ifindex);
}

/*
 * Whether a packet leaving the pod carries the pod's own address as its source: a pod must not
 * speak for another (the receiver's policy trusts the source's identity) or fill conntrack
 * under addresses it does not own. ICMPv6 from the link-local or unspecified address (MLD; ND
 * has passed already) is link plumbing, as for a CNI. Without SIEVE_EPF_SRC_CHECK (addresses not
 * known) every source passes.
 */
static __always_inline int source_valid(const struct endpoint_info *ep, const struct pkt *p)
{
	__u8 fl = ep->flags;
	if (!(fl & SIEVE_EPF_SRC_CHECK))
		return 1;
	const __u32 *s = (const __u32 *)p->saddr;
	if (p->family == 4)
		return (fl & SIEVE_EPF_IPV4) && s[0] == *(const __u32 *)ep->ipv4;
	const __u32 *a = (const __u32 *)ep->ipv6;
	if ((fl & SIEVE_EPF_IPV6) && s[0] == a[0] && s[1] == a[1] && s[2] == a[2] && s[3] == a[3])
		return 1;
	if (p->proto != IPPROTO_ICMPV6)
		return 0;
	return (p->saddr[0] == 0xfe && (p->saddr[1] & 0xc0) == 0x80) || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0);
}

/*
 * An entry point's work: the endpoint of the interface the packet is on, the parsed packet p, the
 * config in cfg, and the verdict of that endpoint's policy in direction dir (a packet that cannot
 * be parsed is dropped and reported).
 */
static __always_inline int handle(struct __sk_buff *skb, __u8 dir, struct pkt *p,
				  struct config_value *cfg, struct judge_at *at, struct endpoint_info **epp)
{
	__u32 ifindex = skb->ifindex, zero = 0;
	struct endpoint_info *ep = endpoint_at(ifindex);
	if (!ep)
		return JUDGED_NONE;
	*epp = ep;
	int rc = parse(skb, p);
	if (rc == 1 || rc == 2)
		return JUDGED_NONE;
	if (rc == 0 && p->frag)
		frag_track(p);
	struct config_value *c = bpf_map_lookup_elem(&sieve_config, &zero);
	cfg->aggregation = c ? c->aggregation : SIEVE_AGG_MEDIUM;
	cfg->flags = c ? c->flags : 0;
	__u32 magic = skb->mark & SIEVE_MARK_MAGIC_MASK;
	at->ifindex = ifindex;
	at->dir = dir;
	at->agg = cfg->aggregation;
	at->ct_missing = 0;
	at->from_proxy = dir == SIEVE_DIR_INGRESS &&
			 (magic == SIEVE_MARK_PROXY_INGRESS || magic == SIEVE_MARK_PROXY_EGRESS);
	if (rc == 0 && dir == SIEVE_DIR_EGRESS && magic == SIEVE_MARK_TO_PROXY) {
		/* sieve_to_pod judged it and turned it back to us (to_pod_proxy()) for the proxy's socket */
		at->dir = SIEVE_DIR_INGRESS;
		return JUDGED_PROXY;
	}
	if (rc == 0 && dir == SIEVE_DIR_EGRESS && !source_valid(ep, p))
		rc = -SIEVE_DROP_INVALID_SOURCE_IP;
	if (rc < 0) {
		__u16 reason = -rc;
		count(SIEVE_VERDICT_DROPPED, dir, reason, skb->len);
		report_event(skb, p, ep, at, SIEVE_ID_WORLD, SIEVE_VERDICT_DROPPED, reason, 0, 0, 0);
		return JUDGED_DROP;
	}
	return judge(skb, p, ep, at);
}

/*
 * Hands a packet judged JUDGED_PROXY to the L7 proxy (tc ingress only): the socket of its connection if the
 * proxy has one (an accepted connection, or the proxy's upstream connection for the reply leg), else the
 * proxy's transparent listener on the port in skb->mark (Cilium's __ctx_redirect_to_proxy). The mark routes it
 * to the local stack, where the assigned socket takes it. No socket: dropped, reported (fail closed).
 */
SIEVE_GLOBAL int to_proxy(struct __sk_buff *skb, const struct pkt *p, const struct endpoint_info *ep,
			  const struct judge_at *at)
{
	if (!p || !ep || !at)
		return TC_ACT_SHOT;
	__u16 port = skb->mark >> 16;
	__u16 reason = 0;
	struct bpf_sock_tuple t = {};
	__u32 len;
	if (p->family == 4) {
		__builtin_memcpy(&t.ipv4.saddr, p->saddr, 4);
		__builtin_memcpy(&t.ipv4.daddr, p->daddr, 4);
		t.ipv4.sport = bpf_htons(p->sport);
		t.ipv4.dport = bpf_htons(p->dport);
		len = sizeof(t.ipv4);
	} else {
		copy16((__u8 *)t.ipv6.saddr, p->saddr);
		copy16((__u8 *)t.ipv6.daddr, p->daddr);
		t.ipv6.sport = bpf_htons(p->sport);
		t.ipv6.dport = bpf_htons(p->dport);
		len = sizeof(t.ipv6);
	}
	struct bpf_sock *sk = NULL;
	if (p->proto == IPPROTO_TCP) {
		sk = bpf_skc_lookup_tcp(skb, &t, len, BPF_F_CURRENT_NETNS, 0);
		if (sk && (sk->state == BPF_TCP_LISTEN || sk->state == BPF_TCP_TIME_WAIT)) {
			bpf_sk_release(sk);
			sk = NULL;
		}
	} else if (p->proto == IPPROTO_UDP) {
		if (port == 0)
			sk = bpf_sk_lookup_udp(skb, &t, len, BPF_F_CURRENT_NETNS, 0);
	} else {
		reason = SIEVE_DROP_PROXY_UNSUPPORTED;
		goto drop;
	}
	if (!sk && port != 0) {
		/* the proxy's listener: bound to the wildcard address on the proxy port */
		__builtin_memset(&t, 0, sizeof(t));
		if (p->family == 4)
			t.ipv4.dport = bpf_htons(port);
		else
			t.ipv6.dport = bpf_htons(port);
		sk = p->proto == IPPROTO_TCP ? (struct bpf_sock *)bpf_skc_lookup_tcp(skb, &t, len, BPF_F_CURRENT_NETNS, 0) :
					       bpf_sk_lookup_udp(skb, &t, len, BPF_F_CURRENT_NETNS, 0);
	}
	if (!sk) {
		reason = SIEVE_DROP_SOCKET_LOOKUP_FAILED;
		goto drop;
	}
	long rc = bpf_sk_assign(skb, sk, 0);
	bpf_sk_release(sk);
	if (rc == 0)
		return TC_ACT_OK;
	reason = SIEVE_DROP_SOCKET_ASSIGN_FAILED;
drop:
	count(SIEVE_VERDICT_DROPPED, at->dir, reason, skb->len);
	report_event(skb, p, ep, at, ipcache_identity(p->family, at->dir == SIEVE_DIR_EGRESS ? p->daddr : p->saddr),
		     SIEVE_VERDICT_DROPPED, reason, 0, port, 0);
	return TC_ACT_SHOT;
}


/* Offsets in the first 26 bytes of a frame that bpf delivery rewrites: both MACs, and the IPv4 TTL and checksum
 * or the IPv6 hop limit (IPv6's bytes 22-25 are the source address's first four, written back unchanged). */
#define HDR_REWRITE_LEN 26
#define IP_TTL_AT  (sizeof(struct ethhdr) + offsetof(struct iphdr, ttl))
#define IP_CSUM_AT (sizeof(struct ethhdr) + offsetof(struct iphdr, check))
#define IP6_HOPS_AT (sizeof(struct ethhdr) + offsetof(struct ipv6hdr, hop_limit))

/*
 * A packet a pod sends to another pod of this node goes straight into the receiver's namespace
 * (bpf_redirect_peer), as Cilium's BPF host routing does: the receiver's ingress policy is
 * judged here, and the host's routing, forwarding and the receiver's tc egress hook are skipped.
 * The receiver is found by the destination address in sieve_lxc (its host veth and both MACs, as
 * Cilium's lxc map): one hash lookup instead of the host's FIB and neighbour tables. Anything else
 * (not a local endpoint's address, its MACs not known yet, the sender's own address, TTL running
 * out, a receiver not fully programmed) returns TC_ACT_OK untouched and takes the stack, whose
 * packets the receiver's sieve_to_pod judges.
 */
static __always_inline int deliver_local(struct __sk_buff *skb, const struct pkt *p, __u32 ifindex,
					 __u32 agg)
{
	struct lxc_info *rx = lxc_at(p->family, p->daddr);
	if (!rx || rx->ifindex == ifindex || !mac_set(rx->mac) || !mac_set(rx->node_mac))
		return TC_ACT_OK;
	__u32 to = rx->ifindex;
	struct endpoint_info *dst = endpoint_at(to);
	if (!dst)
		return TC_ACT_OK;
	if (dst->flags & SIEVE_EPF_NOT_READY)
		return TC_ACT_OK; /* the stack takes it, and the receiver's sieve_to_pod drops and reports it */
	__u8 h[HDR_REWRITE_LEN];
	if (load(skb, 0, h, sizeof(h)) < 0)
		return TC_ACT_OK;
	__u8 ttl = p->family == 4 ? h[IP_TTL_AT] : h[IP6_HOPS_AT];
	if (ttl <= 1)
		return TC_ACT_OK; /* the stack answers with ICMP time exceeded */

	struct judge_at at = {.ifindex = to, .dir = SIEVE_DIR_INGRESS, .agg = agg};
	int v = judge_receiver_fast(skb, p, dst, &at);
	if (v == JUDGED_SLOW)
		v = judge_slow(skb, p, dst, &at);
	if (v == JUDGED_DROP)
		return TC_ACT_SHOT;
	if (v == JUDGED_PROXY) /* the receiver's ingress redirects: its proxy takes it here */
		return to_proxy(skb, p, dst, &at);

	/* What forwarding does to the packet, in one store: this node's MAC to the receiver's, one hop less (the
	 * IPv4 checksum updated incrementally, RFC 1624). */
	__builtin_memcpy(h, rx->mac, ETH_ALEN);
	__builtin_memcpy(h + ETH_ALEN, rx->node_mac, ETH_ALEN);
	if (p->family == 4) {
		h[IP_TTL_AT] = ttl - 1;
		__u16 csum = ((__u16)h[IP_CSUM_AT] << 8) | h[IP_CSUM_AT + 1];
		__u32 sum = (__u16)~csum + (__u16)~((__u16)ttl << 8) + ((__u16)(ttl - 1) << 8);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		csum = ~sum;
		h[IP_CSUM_AT] = csum >> 8;
		h[IP_CSUM_AT + 1] = csum;
	} else {
		h[IP6_HOPS_AT] = ttl - 1;
	}
	bpf_skb_store_bytes(skb, 0, h, sizeof(h), 0);
	return bpf_redirect_peer(to, 0);
}

/* Attached to tc ingress of the host-side veth: the pod is sending. */
SEC("tc")
int sieve_from_pod(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct config_value cfg;
	struct judge_at at = {};
	struct endpoint_info *ep = NULL;
	int v = handle(skb, SIEVE_DIR_EGRESS, &p, &cfg, &at, &ep);
	if (v == JUDGED_DROP)
		return TC_ACT_SHOT;
	if (v == JUDGED_PROXY)
		return to_proxy(skb, &p, ep, &at);
	if (v != JUDGED_PASS || !(cfg.flags & SIEVE_CFG_BPF_DELIVERY))
		return TC_ACT_OK;
	return deliver_local(skb, &p, skb->ifindex, cfg.aggregation);
}

/*
 * A packet sieve_to_pod judged for the proxy: tc egress cannot assign a socket, so it goes back in at the
 * same interface's ingress (the mark survives: same namespace), addressed to this interface's MAC, where
 * sieve_from_pod finds the TO_PROXY mark and assigns it (Cilium's proxy hairpin).
 */
static __always_inline int to_pod_proxy(struct __sk_buff *skb)
{
	__u8 mac[ETH_ALEN];
	if (load(skb, ETH_ALEN, mac, ETH_ALEN) < 0)
		return TC_ACT_SHOT;
	bpf_skb_store_bytes(skb, 0, mac, ETH_ALEN, 0);
	return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
}

/* Attached to tc egress of the host-side veth: the pod is receiving. */
SEC("tc")
int sieve_to_pod(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct config_value cfg;
	struct judge_at at = {};
	struct endpoint_info *ep = NULL;
	int v = handle(skb, SIEVE_DIR_INGRESS, &p, &cfg, &at, &ep);
	if (v == JUDGED_PROXY)
		return to_pod_proxy(skb);
	return v == JUDGED_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

/*
 * Attached to tc ingress of the node's other interfaces (uplinks) while the L7 proxy runs: the replies of
 * the proxy's upstream connections to peers outside the node arrive here, addressed to a client pod's
 * address (the upstream socket is bound to it). A packet whose tuple is one of the proxy's upstream sockets
 * (SO_MARK PROXY_INGRESS / PROXY_EGRESS) is assigned to it and marked for local delivery; everything else
 * passes untouched. Cilium's bpf_host does the same for its transparent proxy.
 */
SEC("tc")
int sieve_from_host(struct __sk_buff *skb)
{
	struct pkt p = {};
	if (parse(skb, &p) != 0 || !p.tracked || (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP))
		return TC_ACT_OK;
	struct bpf_sock_tuple t = {};
	__u32 len;
	if (p.family == 4) {
		__builtin_memcpy(&t.ipv4.saddr, p.saddr, 4);
		__builtin_memcpy(&t.ipv4.daddr, p.daddr, 4);
		t.ipv4.sport = bpf_htons(p.sport);
		t.ipv4.dport = bpf_htons(p.dport);
		len = sizeof(t.ipv4);
	} else {
		copy16((__u8 *)t.ipv6.saddr, p.saddr);
		copy16((__u8 *)t.ipv6.daddr, p.daddr);
		t.ipv6.sport = bpf_htons(p.sport);
		t.ipv6.dport = bpf_htons(p.dport);
		len = sizeof(t.ipv6);
	}
	struct bpf_sock *sk = p.proto == IPPROTO_TCP ?
		(struct bpf_sock *)bpf_skc_lookup_tcp(skb, &t, len, BPF_F_CURRENT_NETNS, 0) :
		bpf_sk_lookup_udp(skb, &t, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_OK;
	struct bpf_sock *full = bpf_sk_fullsock(sk);
	__u32 magic = full ? full->mark & SIEVE_MARK_MAGIC_MASK : 0;
	if (magic == SIEVE_MARK_PROXY_INGRESS || magic == SIEVE_MARK_PROXY_EGRESS) {
		if (bpf_sk_assign(skb, sk, 0) == 0)
			skb->mark = SIEVE_MARK_TO_PROXY;
	}
	bpf_sk_release(sk);
	return TC_ACT_OK;
}
