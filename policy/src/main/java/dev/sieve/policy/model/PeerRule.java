package dev.sieve.policy.model;

import dev.sieve.policy.labels.Requirement;
import java.util.List;

/**
 * One entry of ingress, ingressDeny, egress or egressDeny. An empty peer list means every peer (an L4-only
 * rule); empty {@code toPorts} and {@code icmps} mean every port and protocol. {@code path} is where the
 * rule stands in its document, e.g. {@code spec.ingress[0]}.
 */
public record PeerRule(Direction direction, boolean deny, String path, List<Peer> peers, List<Requirement> requires,
                       List<PortRule> toPorts, List<IcmpField> icmps) {

    public boolean allPorts() {
        return toPorts.isEmpty() && icmps.isEmpty();
    }
}
