package dev.sieve.proxy.dns;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * A bounded reader of DNS messages (RFC 1035 section 4 with RFC 3596 AAAA). Every limit is checked before it is
 * relied on: names of at most 255 octets and labels of at most 63, compression pointers that only point backwards
 * (so a loop cannot exist) and at most {@value #MAX_POINTERS} of them per name, record counts bounded by what the
 * message can hold, and messages of at most {@value #MAX_MESSAGE} octets. Anything else is a {@link Malformed}.
 *
 * <p>Netty's DNS codec decodes whole messages into objects to re-encode them; the proxy relays the bytes as they
 * came (so EDNS0 options and unknown records pass unchanged) and needs only these few fields, hence this reader.
 */
public final class DnsWire {

    public static final int HEADER = 12;
    public static final int MAX_MESSAGE = 65535;
    public static final int MAX_NAME = 255;
    public static final int MAX_POINTERS = 64;

    private DnsWire() {}

    /** A message that breaks the format; the text says what and where. */
    public static final class Malformed extends Exception {
        public Malformed(String message) {
            super(message);
        }
    }

    /** Parses {@code len} octets of {@code buf} from {@code off}. */
    public static DnsMessage parse(byte[] buf, int off, int len) throws Malformed {
        if (len < HEADER) throw new Malformed("message of " + len + " octets is shorter than the 12-octet header");
        if (len > MAX_MESSAGE) throw new Malformed("message of " + len + " octets exceeds " + MAX_MESSAGE);
        Reader r = new Reader(buf, off, len);
        int id = r.u16();
        int flags = r.u16();
        int qd = r.u16(), an = r.u16();
        r.u16(); // authority
        r.u16(); // additional
        // a question takes at least 5 octets, a record 11: counts beyond that cannot be true
        if (qd * 5L > len - HEADER) throw new Malformed("question count " + qd + " does not fit in " + len + " octets");
        List<DnsMessage.Question> questions = new ArrayList<>(qd);
        for (int i = 0; i < qd; i++) {
            String name = r.name();
            questions.add(new DnsMessage.Question(name, r.u16(), r.u16()));
        }
        int questionEnd = r.pos - off;
        List<DnsMessage.Answer> answers = new ArrayList<>();
        if (an * 11L > len - questionEnd) throw new Malformed("answer count " + an + " does not fit in the message");
        for (int i = 0; i < an; i++) {
            String name = r.name();
            int type = r.u16();
            r.u16(); // class
            long ttl = r.u32();
            int rdlen = r.u16();
            int rdStart = r.pos;
            r.need(rdlen, "record data");
            InetAddress addr = null;
            String target = null;
            if (type == DnsMessage.TYPE_A || type == DnsMessage.TYPE_AAAA) {
                int want = type == DnsMessage.TYPE_A ? 4 : 16;
                if (rdlen != want) throw new Malformed((type == DnsMessage.TYPE_A ? "A" : "AAAA") + " record of " + name + " has " + rdlen + " octets, not " + want);
                byte[] a = new byte[want];
                System.arraycopy(buf, rdStart, a, 0, want);
                try {
                    addr = InetAddress.getByAddress(a);
                } catch (UnknownHostException e) {
                    throw new Malformed("bad address in " + name); // cannot happen for 4 or 16 octets
                }
            } else if (type == DnsMessage.TYPE_CNAME) {
                Reader t = new Reader(buf, off, len);
                t.pos = rdStart;
                target = t.name();
                if (t.pos > rdStart + rdlen) throw new Malformed("CNAME target of " + name + " runs past its record");
            }
            r.pos = rdStart + rdlen;
            // TTLs are unsigned 31-bit values; RFC 2181 says treat a set top bit as 0
            answers.add(new DnsMessage.Answer(name, type, ttl > Integer.MAX_VALUE ? 0 : ttl, addr, target));
        }
        return new DnsMessage(id, flags, List.copyOf(questions), List.copyOf(answers), an, questionEnd);
    }

    public static DnsMessage parse(byte[] buf) throws Malformed {
        return parse(buf, 0, buf.length);
    }

    private static final class Reader {
        final byte[] buf;
        final int start;
        final int end;
        int pos;

        Reader(byte[] buf, int off, int len) {
            this.buf = buf;
            this.start = off;
            this.end = off + len;
            this.pos = off;
        }

        void need(int n, String what) throws Malformed {
            if (n > end - pos) throw new Malformed("truncated " + what + " at offset " + (pos - start));
        }

        int u8() throws Malformed {
            need(1, "field");
            return buf[pos++] & 0xFF;
        }

        int u16() throws Malformed {
            need(2, "field");
            int v = ((buf[pos] & 0xFF) << 8) | (buf[pos + 1] & 0xFF);
            pos += 2;
            return v;
        }

        long u32() throws Malformed {
            need(4, "field");
            long v = ((long) (buf[pos] & 0xFF) << 24) | ((buf[pos + 1] & 0xFF) << 16) | ((buf[pos + 2] & 0xFF) << 8) | (buf[pos + 3] & 0xFF);
            pos += 4;
            return v;
        }

        /** Reads a possibly compressed name; leaves {@code pos} after its encoding in place. */
        String name() throws Malformed {
            StringBuilder sb = new StringBuilder();
            int p = pos;
            int after = -1; // where reading continues once a pointer was followed
            int octets = 1; // the root label's length octet
            int pointers = 0;
            int lowest = p; // a pointer must point before every place this name was read from
            while (true) {
                if (p >= end) throw new Malformed("truncated name at offset " + (p - start));
                int len = buf[p] & 0xFF;
                if ((len & 0xC0) == 0xC0) {
                    if (p + 1 >= end) throw new Malformed("truncated compression pointer at offset " + (p - start));
                    int target = start + (((len & 0x3F) << 8) | (buf[p + 1] & 0xFF));
                    if (++pointers > MAX_POINTERS) throw new Malformed("name with more than " + MAX_POINTERS + " compression pointers");
                    if (target >= lowest) throw new Malformed("compression pointer at offset " + (p - start) + " does not point backwards (a loop)");
                    if (after < 0) after = p + 2;
                    lowest = target;
                    p = target;
                    continue;
                }
                if ((len & 0xC0) != 0) throw new Malformed("unknown label type 0x" + Integer.toHexString(len & 0xC0) + " at offset " + (p - start));
                if (len == 0) {
                    p++;
                    break;
                }
                octets += len + 1;
                if (octets > MAX_NAME) throw new Malformed("name longer than " + MAX_NAME + " octets");
                if (p + 1 + len > end) throw new Malformed("truncated label at offset " + (p - start));
                if (sb.length() > 0) sb.append('.');
                for (int i = p + 1; i <= p + len; i++) {
                    int c = buf[i] & 0xFF;
                    if (c == '.' || c == '\\' || c < 0x21 || c > 0x7E) sb.append(String.format("\\%03d", c)); // RFC 4343 escapes
                    else sb.append((char) c);
                }
                p += 1 + len;
            }
            pos = after >= 0 ? after : p;
            return sb.toString();
        }
    }

    /**
     * The answer the proxy sends instead of forwarding a query: the query's header and question section with QR set,
     * RD copied, RA set, {@code rcode}, and no other records. For a query whose question could not be read,
     * the header alone (QDCOUNT 0).
     */
    public static byte[] reply(byte[] query, int off, int len, DnsMessage parsed, int rcode) {
        int qlen = parsed != null ? parsed.questionEnd() : HEADER;
        byte[] out = new byte[qlen];
        System.arraycopy(query, off, out, 0, Math.min(qlen, len));
        int flags = ((out[2] & 0xFF) << 8) | (out[3] & 0xFF);
        int opcode = flags & 0x7800;
        int rd = flags & 0x0100;
        flags = 0x8000 | opcode | rd | 0x0080 | (rcode & 0xF);
        out[2] = (byte) (flags >> 8);
        out[3] = (byte) flags;
        if (parsed == null) {
            out[4] = 0;
            out[5] = 0;
        }
        for (int i = 6; i < HEADER; i++) out[i] = 0; // no answer, authority or additional records
        return out;
    }

    /** Hubble's names of record types (gopacket's {@code DNSType.String()}), the number for unknown ones. */
    public static String typeName(int type) {
        return switch (type) {
            case 1 -> "A";
            case 2 -> "NS";
            case 3 -> "MD";
            case 4 -> "MF";
            case 5 -> "CNAME";
            case 6 -> "SOA";
            case 7 -> "MB";
            case 8 -> "MG";
            case 9 -> "MR";
            case 10 -> "NULL";
            case 11 -> "WKS";
            case 12 -> "PTR";
            case 13 -> "HINFO";
            case 14 -> "MINFO";
            case 15 -> "MX";
            case 16 -> "TXT";
            case 28 -> "AAAA";
            case 33 -> "SRV";
            case 35 -> "NAPTR";
            case 41 -> "OPT";
            case 43 -> "DS";
            case 46 -> "RRSIG";
            case 47 -> "NSEC";
            case 48 -> "DNSKEY";
            case 64 -> "SVCB";
            case 65 -> "HTTPS";
            case 99 -> "SPF";
            case 252 -> "AXFR";
            case 255 -> "ANY";
            case 257 -> "CAA";
            default -> Integer.toString(type);
        };
    }

    /** Hubble's names of response codes ({@code pkg/hubble/metrics/dns}). */
    public static String rcodeName(int rcode) {
        return switch (rcode) {
            case 0 -> "No Error";
            case 1 -> "Format Error";
            case 2 -> "Server Failure";
            case 3 -> "Non-Existent Domain";
            case 4 -> "Not Implemented";
            case 5 -> "Query Refused";
            case 6 -> "Name Exists when it should not";
            case 7 -> "RR Set Exists when it should not";
            case 8 -> "RR Set that should exist does not";
            case 9 -> "Not Authorized";
            case 10 -> "Name not contained in zone";
            case 11 -> "DSO-TYPE Not Implemented";
            case 16 -> "Bad OPT Version";
            case 17 -> "Key not recognized";
            case 18 -> "Signature out of time window";
            case 19 -> "Bad TKEY Mode";
            case 20 -> "Duplicate key name";
            case 21 -> "Algorithm not supported";
            case 22 -> "Bad Truncation";
            case 23 -> "Bad/missing Server Cookie";
            default -> Integer.toString(rcode);
        };
    }
}
