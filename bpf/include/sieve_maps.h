/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sieve datapath ABI: map keys/values, the verdict event and the constants
 * shared by bpf/sieve.bpf.c and the Java side (dev.sieve.enforcer.maps).
 * Every struct here is mirrored by a Java MemoryLayout; DatapathLayoutTest
 * compares both through the object's BTF, so change them together.
 */
#ifndef SIEVE_MAPS_H
#define SIEVE_MAPS_H

#include <linux/types.h>

/* Traffic direction, numbered like Hubble's TrafficDirection. */
/* metrics key (verdict NONE, direction NONE, reason 0) counts events lost to a full ring buffer */
#define SIEVE_DIR_NONE    0
#define SIEVE_DIR_INGRESS 1 /* entering the pod (host veth egress hook) */
#define SIEVE_DIR_EGRESS  2 /* leaving the pod (host veth ingress hook) */

/* Verdicts, numbered like Hubble's flow.Verdict. */
#define SIEVE_VERDICT_NONE       0
#define SIEVE_VERDICT_FORWARDED  1
#define SIEVE_VERDICT_DROPPED    2
#define SIEVE_VERDICT_AUDIT      4
#define SIEVE_VERDICT_REDIRECTED 5

/* Drop reasons, numbered like Hubble's flow.DropReason. */
#define SIEVE_DROP_INVALID_SOURCE_IP    132 /* a pod sent with an address not its own */
#define SIEVE_DROP_POLICY_DENIED        133 /* no allow, enforcement on */
#define SIEVE_DROP_INVALID_PACKET       134
#define SIEVE_DROP_CT_INVALID_HDR       135
#define SIEVE_DROP_CT_MAP_INSERT_FAILED 155
#define SIEVE_DROP_INVALID_IPV6_EXTHDR  156
#define SIEVE_DROP_SOCKET_LOOKUP_FAILED 178 /* redirected to the L7 proxy, which is not listening */
#define SIEVE_DROP_SOCKET_ASSIGN_FAILED 179 /* the proxy's socket could not take the packet */
#define SIEVE_DROP_PROXY_UNSUPPORTED    180 /* a redirect for a protocol the proxy cannot take (not TCP/UDP) */
#define SIEVE_DROP_POLICY_DENY          181 /* an explicit deny matched */
#define SIEVE_DROP_EP_NOT_READY         203 /* the endpoint could not be fully programmed */

/* Reserved identities (Cilium numbering). */
#define SIEVE_ID_ANY   0
#define SIEVE_ID_HOST  1
#define SIEVE_ID_WORLD 2

/* Policy actions (policy_value.action, ct_value.action). */
#define SIEVE_ACTION_NONE     0
#define SIEVE_ACTION_ALLOW    1
#define SIEVE_ACTION_DENY     2
#define SIEVE_ACTION_REDIRECT 3
#define SIEVE_ACTION_AUDIT    4 /* ct only: denied, passed because of audit mode */

/*
 * skb->mark, Cilium's layout (bpf/lib/common.h): the magic in bits 8-11, the proxy port in the upper 16.
 * TO_PROXY: deliver to the node's L7 proxy; the agent's rule "fwmark 0x200/0xf00 lookup 2004" routes such
 * packets to the local stack, where the socket the datapath assigned (bpf_sk_assign) takes them.
 * PROXY_INGRESS / PROXY_EGRESS: the proxy's own upstream packets (SO_MARK), judged once, never redirected.
 * A pod cannot set skb->mark: crossing into the node's namespace scrubs it.
 */
#define SIEVE_MARK_MAGIC_MASK    0x0F00
#define SIEVE_MARK_TO_PROXY      0x0200
#define SIEVE_MARK_PROXY_INGRESS 0x0A00
#define SIEVE_MARK_PROXY_EGRESS  0x0B00
#define SIEVE_PROXY_ROUTE_TABLE  2004

/* ct_value.flags */
#define SIEVE_CTF_PROXY_LEG 0x01 /* the L7 proxy's upstream connection: replies go to the proxy's socket */

/* Monitor aggregation levels (config_value.aggregation). */
#define SIEVE_AGG_NONE   0 /* an event for every packet */
#define SIEVE_AGG_LOW    1 /* new conn, first reply, any new TCP flag per direction, drops */
#define SIEVE_AGG_MEDIUM 2 /* new conn, first reply, new SYN/FIN/RST per direction, drops */
#define SIEVE_AGG_MAX    3 /* new conn, FIN/RST (close), drops */

/* verdict_event.flags */
#define SIEVE_EVF_REPLY    0x01 /* packet belongs to the reply direction */
#define SIEVE_EVF_NEW      0x02 /* first packet of a connection */
#define SIEVE_EVF_AUDIT    0x04 /* endpoint in audit mode */
#define SIEVE_EVF_CLOSE    0x08 /* FIN or RST seen */
#define SIEVE_EVF_RECHECK  0x10 /* established flow re-checked after a policy change */
#define SIEVE_EVF_FROM_PROXY 0x20 /* the L7 proxy's upstream connection (Hubble's FROM_PROXY) */

/*
 * ipcache: LPM trie, prefix -> identity. The family word is always fully
 * matched: prefixlen = 32 + IP prefix length. IPv4 uses addr[0..3].
 */
struct ipcache_key {
	__u32 prefixlen;
	__u32 family; /* 4 or 6 */
	__u8 addr[16];
};

struct ipcache_value {
	__u32 identity;
	__u32 flags; /* reserved */
};

/*
 * policy: one LPM trie for all endpoints. Bits after prefixlen, in order:
 * endpoint_id (32), identity (32), direction (8) - always fully matched,
 * POLICY_STATIC_PREFIX - then protocol (8) and dport (16, big endian) as a
 * prefix, so a port range is stored as prefix-aligned blocks and
 * "protocol any" as a key that stops after the static part.
 * The datapath looks up (identity) and (identity 0 = any peer) and combines:
 * DENY wins, then ALLOW, then REDIRECT (see PolicyKeyGenerator.java).
 */
struct policy_key {
	__u32 prefixlen;
	__u32 endpoint_id;
	__u32 identity;
	__u8 direction;
	__u8 protocol;
	__be16 dport;
};
#define POLICY_STATIC_PREFIX 72
#define POLICY_FULL_PREFIX   96

struct policy_value {
	__u32 rule_id;
	__u16 proxy_port; /* host byte order, REDIRECT only */
	__u8 action;      /* SIEVE_ACTION_* */
	__u8 flags;       /* reserved */
};

/*
 * endpoints, keyed by the host-side veth ifindex: sieve_endpoints (hash) holds them all;
 * sieve_ep_array, indexed by ifindex, holds a copy of those below SIEVE_EP_ARRAY_SIZE, which
 * the datapath reads instead (the verifier inlines an array lookup; a hash lookup was a fifth
 * of an established packet's cost). An array slot without an endpoint has present = 0.
 */
#define SIEVE_EP_ARRAY_SIZE 65536

/* endpoint_info.flags */
#define SIEVE_EPF_SRC_CHECK 0x01 /* a packet from the pod must carry one of the addresses below */
#define SIEVE_EPF_IPV4      0x02 /* ipv4 is set */
#define SIEVE_EPF_IPV6      0x04 /* ipv6 is set */
#define SIEVE_EPF_NOT_READY 0x08 /* not fully programmed (a map was full): every IP packet is dropped */

struct endpoint_info {
	__u32 endpoint_id;
	__u32 identity;
	__u32 policy_revision; /* bumped on every policy change */
	__u8 enforce_ingress;
	__u8 enforce_egress;
	__u8 audit;
	__u8 present; /* 1 (the hash holds only endpoints; in the array, 0 is an empty slot) */
	__u8 flags;   /* SIEVE_EPF_* */
	__u8 pad[3];
	__u8 ipv4[4];  /* the pod's own addresses: the only sources it may send from */
	__u8 ipv6[16];
};

/*
 * lxc: hash, a local endpoint's own address -> where it is (Cilium's lxc map). bpf delivery finds a same-node
 * receiver here by the packet's destination, instead of asking the host's FIB and neighbour tables per packet.
 * The agent writes ifindex and node_mac (the host-side veth's MAC, the receiver's "router") and the pod's MAC
 * when the host's neighbour table has it; the datapath fills mac from the pod's own packets when it is still 0.
 * An entry without both MACs is not used (the stack delivers).
 */
struct lxc_key {
	__u32 family; /* 4 or 6 */
	__u8 addr[16]; /* IPv4 in addr[0..3] */
};

struct lxc_info {
	__u32 ifindex;  /* the host-side veth (the key of sieve_ep_array / sieve_endpoints) */
	__u8 mac[6];    /* the pod's interface */
	__u8 node_mac[6];
};

/*
 * conntrack: LRU hash, scoped to the endpoint whose program saw the flow (a
 * pod-to-pod flow has one entry per endpoint, as each enforces its own
 * policy). The tuple is canonical: the lower (address, port) side first, so
 * a packet and its reply find the entry with one lookup; ct_value says which
 * side opened the connection. ICMP echo uses the echo id as both ports.
 */
struct ct_key {
	__u8 saddr[16]; /* the lower (address, port) side */
	__u8 daddr[16]; /* the higher side */
	__u16 sport; /* host byte order */
	__u16 dport;
	__u32 endpoint_id;
	__u8 protocol;
	__u8 family;
	__u16 pad;
};

struct ct_value {
	__u64 last_seen_ns;
	__u64 created_ns;
	__u32 rule_id;
	__u32 policy_revision; /* endpoint revision the verdict was taken at */
	__u16 proxy_port;
	__u16 policy_port;     /* dport (or ICMP type) the policy was looked up with */
	__u8 action;           /* SIEVE_ACTION_* */
	__u8 direction;        /* direction of the first packet */
	__u8 flags_fwd;        /* TCP flags seen, original direction */
	__u8 flags_rev;        /* TCP flags seen, reply direction */
	__u8 seen_reply;
	__u8 closing;
	__u8 orig_swapped;     /* 1: the first packet came from the key's daddr/dport side */
	__u8 flags;            /* SIEVE_CTF_* */
	__u32 refreshed_jiffies; /* low 32 bits of jiffies when last_seen_ns was last written */
};

/*
 * metrics: per-CPU array, slot (verdict, direction, reason) -> packets, bytes.
 * slot = (verdict * 4 + direction) * 16 + reason index, the index of the drop
 * reason in SIEVE_METRICS_REASONS (0: none; 15: any other). Slot 0 (verdict
 * NONE, direction NONE, no reason) counts events lost to a full ring buffer.
 */
#define SIEVE_METRICS_SLOTS 512
/* SIEVE_METRICS_REASONS: 0, 132, 133, 134, 135, 155, 156, 181, 203, ..., 15 any other (MetricsKey.java) */

static inline __attribute__((always_inline)) __u32 reason_index(__u16 reason)
{
	return reason == 0 ? 0 :
		  reason == SIEVE_DROP_INVALID_SOURCE_IP ? 1 :
		  reason == SIEVE_DROP_POLICY_DENIED ? 2 :
		  reason == SIEVE_DROP_INVALID_PACKET ? 3 :
		  reason == SIEVE_DROP_CT_INVALID_HDR ? 4 :
		  reason == SIEVE_DROP_CT_MAP_INSERT_FAILED ? 5 :
		  reason == SIEVE_DROP_INVALID_IPV6_EXTHDR ? 6 :
		  reason == SIEVE_DROP_POLICY_DENY ? 7 :
		  reason == SIEVE_DROP_EP_NOT_READY ? 8 :
		  reason == SIEVE_DROP_SOCKET_LOOKUP_FAILED ? 9 :
		  reason == SIEVE_DROP_SOCKET_ASSIGN_FAILED ? 10 :
		  reason == SIEVE_DROP_PROXY_UNSUPPORTED ? 11 : 15;
}

static inline __attribute__((always_inline)) __u32 metrics_slot(__u8 verdict, __u8 dir, __u16 reason)
{
	return (((__u32)(verdict & 7) * 4 + (dir & 3)) * 16 + reason_index(reason)) & (SIEVE_METRICS_SLOTS - 1);
}

/*
 * drops: per-CPU array, slot (drop reason, L4 protocol) -> packets, bytes; every dropped packet is counted here
 * whether or not an event reports it (hubble_drop_total{reason,protocol}). slot = reason index * 8 + protocol
 * index (0 other, 1 TCP, 2 UDP, 3 SCTP, 4 ICMP, 5 ICMPv6).
 */
#define SIEVE_DROP_SLOTS 128

static inline __attribute__((always_inline)) __u32 drop_slot(__u16 reason, __u8 proto)
{
	__u32 pi = proto == 6 ? 1 : proto == 17 ? 2 : proto == 132 ? 3 : proto == 1 ? 4 : proto == 58 ? 5 : 0;
	return (reason_index(reason) * 8 + pi) & (SIEVE_DROP_SLOTS - 1);
}

struct metrics_value {
	__u64 packets;
	__u64 bytes;
};

/* config: array with one element. */
/* config_value.flags: the sender's program judges a same-node receiver's ingress policy too and
 * delivers with bpf_redirect_peer (LocalDelivery.BPF); unset, packets take the host's stack. */
#define SIEVE_CFG_BPF_DELIVERY 0x1

struct config_value {
	__u32 aggregation; /* SIEVE_AGG_* */
	__u32 flags;       /* SIEVE_CFG_* */
};

/* One verdict event in the ring buffer. Ports in host byte order. */
struct verdict_event {
	__u64 timestamp_ns; /* bpf_ktime_get_ns */
	__u8 src_addr[16];
	__u8 dst_addr[16];
	__u32 src_identity;
	__u32 dst_identity;
	__u32 rule_id;
	__u32 endpoint_id;
	__u32 ifindex;
	__u32 packet_len;
	__u16 src_port;
	__u16 dst_port;
	__u16 drop_reason;
	__u16 proxy_port;
	__u8 verdict;
	__u8 direction;
	__u8 family; /* 4 or 6 */
	__u8 protocol;
	__u8 tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
	__u8 flags;     /* SIEVE_EVF_* */
	__u8 icmp_type;
	__u8 icmp_code;
};

#endif /* SIEVE_MAPS_H */
