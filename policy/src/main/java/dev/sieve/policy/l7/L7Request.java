package dev.sieve.policy.l7;

/** One L7 request as a proxy decodes it (or as {@code sieve policy trace} is given it). */
public sealed interface L7Request permits HttpRequest, KafkaRequest, DnsQuery {

    /** Whether one of {@code rules} allows this request; the matching rule, or null. */
    Object firstMatch(L7Rules rules);

    /** The request in a few words, for reasons and logs. */
    String describe();
}
