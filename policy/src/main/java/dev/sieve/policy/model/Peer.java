package dev.sieve.policy.model;

import dev.sieve.policy.labels.LabelSelector;
import dev.sieve.policy.net.Cidr;
import java.util.List;

/** One way a rule names the other side of a connection. */
public sealed interface Peer {

    /** Pods (and reserved identities) by labels; the namespace scoping is already applied. */
    record Endpoints(LabelSelector selector) implements Peer {}

    /** A CIDR, minus the prefixes in {@code except}. */
    record CidrBlock(Cidr cidr, List<Cidr> except) implements Peer {}

    record EntityPeer(Entity entity) implements Peer {}

    /** toFQDNs: exactly one of matchName / matchPattern is set. */
    record Fqdn(String matchName, String matchPattern) implements Peer {
        public String text() {
            return matchName != null ? matchName : matchPattern;
        }
    }

    /** toServices by name (k8sService) or by the service's labels (k8sServiceSelector). */
    record Service(String namespace, String name, LabelSelector serviceSelector) implements Peer {}

    /** Every peer there is, including the world (a NetworkPolicy rule without from/to). */
    record Any() implements Peer {}
}
