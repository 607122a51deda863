/**
 * The node's transparent L7 proxies. The core package holds what every protocol shares: the listeners the
 * datapath redirects to, the redirected connection's context (client, original destination, identities), the
 * L7 policy lookup and the flows; one sub-package per protocol ({@code http}, {@code dns}, {@code kafka}).
 */
package dev.sieve.proxy;
