#!/usr/bin/python3
"""Crafted packets for the datapath tests, sent through raw sockets (Python's standard library only).

  craft.py icmperr OUTER_SRC OUTER_DST TYPE CODE Q_SRC Q_DST Q_SPORT Q_DPORT PAYLOAD_BYTES COUNT
      an ICMP/ICMPv6 error quoting a TCP packet Q_SRC:Q_SPORT -> Q_DST:Q_DPORT, with PAYLOAD_BYTES
      of payload after the quoted TCP header
  craft.py synflood SRC DST DPORT_LOW DPORT_HIGH COUNT
      COUNT TCP SYNs from SRC, source ports 1024.. cycling, destination ports cycling in the range
Prints the number of packets sent.
"""
import ipaddress
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(src, dst, proto, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), proto, 64,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload


def pseudo6(src, dst, proto, length):
    return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
            + struct.pack("!IxxxB", length, proto))


def tcp(src, dst, sport, dport, flags, v6):
    h = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 65535, 0, 0)
    if v6:
        ph = pseudo6(src, dst, 6, len(h))
    else:
        ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", 6, len(h))
    return h[:16] + struct.pack("!H", csum(ph + h)) + h[18:]


def is6(a):
    return ipaddress.ip_address(a).version == 6


def sender(v6):
    if v6:
        return socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    return s


def icmperr(osrc, odst, typ, code, qsrc, qdst, qsport, qdport, payload, count):
    v6 = is6(osrc)
    quoted_l4 = tcp(qsrc, qdst, qsport, qdport, 0x10, v6) + b"x" * payload
    if v6:
        quoted = ip6(qsrc, qdst, 6, quoted_l4)
        body = struct.pack("!BBHI", typ, code, 0, 1280 if typ == 2 else 0) + quoted
        body = body[:2] + struct.pack("!H", csum(pseudo6(osrc, odst, 58, len(body)) + body)) + body[4:]
        pkt = ip6(osrc, odst, 58, body)
    else:
        quoted = ip4(qsrc, qdst, 6, quoted_l4)
        body = struct.pack("!BBHHH", typ, code, 0, 0, 1400 if (typ, code) == (3, 4) else 0) + quoted
        body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
        pkt = ip4(osrc, odst, 1, body)
    s = sender(v6)
    for _ in range(count):
        s.sendto(pkt, (odst, 0))
    return count


def synflood(src, dst, dlow, dhigh, count):
    v6 = is6(src)
    s = sender(v6)
    sent = 0
    ports = dhigh - dlow + 1
    for i in range(count):
        sport = 1024 + (i // ports) % 64000
        dport = dlow + i % ports
        seg = tcp(src, dst, sport, dport, 0x02, v6)
        pkt = ip6(src, dst, 6, seg) if v6 else ip4(src, dst, 6, seg)
        try:
            s.sendto(pkt, (dst, 0))
            sent += 1
        except OSError:
            pass  # ENOBUFS under load: count only what left
    return sent


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "icmperr":
        n = icmperr(a[0], a[1], int(a[2]), int(a[3]), a[4], a[5], int(a[6]), int(a[7]), int(a[8]), int(a[9]))
    elif cmd == "synflood":
        n = synflood(a[0], a[1], int(a[2]), int(a[3]), int(a[4]))
    else:
        sys.exit("unknown command " + cmd)
    print(n)
