package dev.sieve.proxy.dns;

import java.time.Duration;

/**
 * The DNS proxy's settings.
 *
 * @param rejectRcode the answer to a query the policy does not allow: {@link DnsMessage#RCODE_REFUSED} (Cilium's
 *     default) or {@link DnsMessage#RCODE_NXDOMAIN} (Cilium's {@code --tofqdns-dns-reject-response-code=nameError})
 * @param upstreamTimeout how long to wait for the server before answering SERVFAIL
 */
public record DnsProxyConfig(int rejectRcode, Duration upstreamTimeout) {

    public static final DnsProxyConfig DEFAULT = new DnsProxyConfig(DnsMessage.RCODE_REFUSED, Duration.ofSeconds(5));

    public DnsProxyConfig {
        if (rejectRcode != DnsMessage.RCODE_REFUSED && rejectRcode != DnsMessage.RCODE_NXDOMAIN) {
            throw new IllegalArgumentException("reject response code must be refused or nameError, not " + rejectRcode);
        }
    }

    /** Cilium's flag values: {@code refused} or {@code nameError}. */
    public static int parseRejectCode(String text) {
        return switch (text) {
            case "refused" -> DnsMessage.RCODE_REFUSED;
            case "nameError" -> DnsMessage.RCODE_NXDOMAIN;
            default -> throw new IllegalArgumentException("--tofqdns-dns-reject-response-code must be refused or nameError: " + text);
        };
    }
}
