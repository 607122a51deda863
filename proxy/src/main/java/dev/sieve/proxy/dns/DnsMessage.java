package dev.sieve.proxy.dns;

import java.net.InetAddress;
import java.util.List;

/**
 * What the DNS proxy reads of a message (RFC 1035 section 4): the header, the questions, and the answer section's
 * A, AAAA and CNAME records. The proxy relays the bytes it received unchanged (EDNS0 and every other record pass
 * through); this is only what it judges and learns from.
 *
 * @param questionEnd offset just past the question section (a refusal echoes the bytes before it)
 */
public record DnsMessage(int id, int flags, List<Question> questions, List<Answer> answers, int answerCount,
                         int questionEnd) {

    public static final int TYPE_A = 1;
    public static final int TYPE_CNAME = 5;
    public static final int TYPE_AAAA = 28;
    public static final int TYPE_OPT = 41;

    public static final int RCODE_NOERROR = 0;
    public static final int RCODE_FORMERR = 1;
    public static final int RCODE_SERVFAIL = 2;
    public static final int RCODE_NXDOMAIN = 3;
    public static final int RCODE_REFUSED = 5;

    /** One question: the name in dotted form without the trailing dot ("" for the root), type and class. */
    public record Question(String name, int type, int dnsClass) {}

    /**
     * One answer record the proxy understood: owner name, type, TTL in seconds, and the address (A/AAAA) or the
     * target name (CNAME); other types carry neither.
     */
    public record Answer(String name, int type, long ttl, InetAddress address, String target) {}

    public boolean isResponse() {
        return (flags & 0x8000) != 0;
    }

    public int opcode() {
        return (flags >> 11) & 0xF;
    }

    public boolean truncated() {
        return (flags & 0x0200) != 0;
    }

    public int rcode() {
        return flags & 0xF;
    }
}
