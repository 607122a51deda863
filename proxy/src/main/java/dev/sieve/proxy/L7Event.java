package dev.sieve.proxy;

import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.compute.RuleInfo;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * What a proxy reports for one request or response; the observer turns it into a Hubble L7 flow (as the datapath's
 * verdict events become L3/L4 flows), adding endpoints, identities, policy names, node and id.
 *
 * @param epochNanos when it happened, nanoseconds since the epoch
 * @param source the address the request came from (for a response: the server's)
 * @param destination where it went (for a request: the original destination)
 * @param l4Protocol IANA number, 6 or 17
 * @param ingress whether the proxy took the connection for the destination's ingress policy (else the source's
 *     egress); the flow's traffic direction
 * @param verdict FORWARDED, DROPPED, AUDIT, or ERROR for what the proxy could not parse
 * @param egressRules the rules that decided on the egress side (allowed-by, or denied-by when denied there)
 * @param ingressRules likewise on the ingress side
 * @param layer7 Hubble's L7 record: type REQUEST or RESPONSE, latency on responses, and the protocol's fields
 * @param summary Hubble's one-line summary, e.g. {@code HTTP/1.1 GET http://api/api/users}
 * @param proxyPort the listener's port
 */
public record L7Event(long epochNanos, InetSocketAddress source, InetSocketAddress destination, int l4Protocol,
                      boolean ingress, Verdict verdict, List<RuleInfo> egressRules, List<RuleInfo> ingressRules,
                      Layer7 layer7, String summary, int proxyPort) {

    public L7Event {
        egressRules = List.copyOf(egressRules);
        ingressRules = List.copyOf(ingressRules);
    }

    public boolean isResponse() {
        return layer7.getType() == dev.sieve.api.flow.L7FlowType.RESPONSE;
    }
}
