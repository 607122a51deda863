/**
 * The HTTP L7 proxy protocol: HTTP/1.1 and HTTP/2 over cleartext (gRPC), judged per request with the connection's
 * {@link dev.sieve.policy.trace.ConnectionPolicy} and reported as Hubble L7 flows. {@link
 * dev.sieve.proxy.http.HttpProxyProtocol} is the entry point; {@code proxy/README.md} describes the behaviour.
 */
package dev.sieve.proxy.http;
