package dev.sieve.policy.trace;

import dev.sieve.policy.l7.DnsQuery;
import dev.sieve.policy.l7.HttpRequest;
import dev.sieve.policy.l7.KafkaRequest;
import dev.sieve.policy.l7.L7Request;
import dev.sieve.policy.model.Protocol;

/** What to trace: two peers (see {@link PeerSpec}), a destination port and protocol, an optional L7 request. */
public record TraceRequest(String from, String to, int port, Protocol protocol, HttpRequest http, KafkaRequest kafka,
                           String dnsQuery) {

    public boolean hasL7() {
        return http != null || kafka != null || dnsQuery != null;
    }

    /** The L7 request given, or null. */
    public L7Request l7() {
        if (http != null) return http;
        if (kafka != null) return kafka;
        return dnsQuery == null ? null : new DnsQuery(dnsQuery);
    }
}
