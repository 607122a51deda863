package dev.sieve.policy.compute;

import dev.sieve.policy.cluster.Service;
import dev.sieve.policy.labels.K8sLabels;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.labels.LabelSelector;
import dev.sieve.policy.labels.LabelSet;
import dev.sieve.policy.labels.Requirement;
import dev.sieve.policy.model.Entity;
import dev.sieve.policy.model.Peer;
import dev.sieve.policy.net.Cidr;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Turns the ways a rule names peers into identity label selectors, Cilium-style: CIDRs select CIDR
 * identities by {@code cidr:} labels (an except carves a narrower prefix out), entities select reserved
 * identities, toFQDNs selects identities of addresses DNS returned ({@code fqdn:} labels), toServices selects
 * the pods behind a service. {@code null} in the result means "every peer".
 */
public final class PeerSelectors {

    private PeerSelectors() {}

    public static List<LabelSelector> of(Peer peer, Collection<Service> services) {
        return switch (peer) {
            case Peer.Any a -> java.util.Collections.singletonList(null);
            case Peer.Endpoints e -> List.of(e.selector());
            case Peer.CidrBlock c -> List.of(cidrSelector(c));
            case Peer.EntityPeer e -> entity(e.entity());
            case Peer.Fqdn f -> List.of(LabelSelector.of(new Requirement(Label.SOURCE_FQDN, f.text(), Requirement.Operator.EXISTS, List.of())));
            case Peer.Service s -> services(s, services);
        };
    }

    /** The label a toFQDNs selector gives an address the DNS proxy learned for an endpoint of {@code subject}. */
    public static Label learnedFqdnLabel(String selector, int subject) {
        return new Label(Label.SOURCE_FQDN, selector + "@" + subject, "");
    }

    /** Selects addresses the DNS proxy learned for {@code subject} under this toFQDNs selector. */
    public static LabelSelector learnedFqdn(Peer.Fqdn f, int subject) {
        return LabelSelector.of(new Requirement(Label.SOURCE_FQDN, f.text() + "@" + subject, Requirement.Operator.EXISTS, List.of()));
    }

    static LabelSelector cidrSelector(Peer.CidrBlock c) {
        List<Requirement> reqs = new ArrayList<>();
        reqs.add(cidrRequirement(c.cidr(), Requirement.Operator.EXISTS));
        for (Cidr ex : c.except()) reqs.add(cidrRequirement(ex, Requirement.Operator.DOES_NOT_EXIST));
        return new LabelSelector(reqs);
    }

    private static Requirement cidrRequirement(Cidr c, Requirement.Operator op) {
        // the whole address space is the world, as in Cilium
        if (c.bits() == 0) return new Requirement(Label.SOURCE_RESERVED, "world", op, List.of());
        return new Requirement(Label.SOURCE_CIDR, c.toString(), op, List.of());
    }

    /** Labels of the CIDR identity for a prefix: the prefix and every shorter prefix containing it, plus world. */
    public static LabelSet cidrLabels(Cidr prefix) {
        List<Label> labels = new ArrayList<>(prefix.bits() + 1);
        labels.add(Label.reserved("world"));
        for (int bits = prefix.bits(); bits > 0; bits--) {
            labels.add(new Label(Label.SOURCE_CIDR, new Cidr(prefix.address(), bits).toString(), ""));
        }
        return LabelSet.of(labels);
    }

    public static List<LabelSelector> entity(Entity e) {
        return switch (e) {
            case ALL -> java.util.Collections.singletonList(null);
            case WORLD, WORLD_IPV4, WORLD_IPV6 -> List.of(reserved("world"));
            case CLUSTER -> List.of(reserved("host"), reserved("remote-node"), reserved("kube-apiserver"), reserved("init"),
                    reserved("health"), reserved("unmanaged"), reserved("ingress"),
                    LabelSelector.of(new Requirement(Label.SOURCE_K8S, K8sLabels.POLICY_CLUSTER, Requirement.Operator.IN, List.of(K8sLabels.DEFAULT_CLUSTER))));
            default -> List.of(reserved(e.yamlName));
        };
    }

    private static LabelSelector reserved(String name) {
        return LabelSelector.of(new Requirement(Label.SOURCE_RESERVED, name, Requirement.Operator.EXISTS, List.of()));
    }

    private static List<LabelSelector> services(Peer.Service s, Collection<Service> services) {
        List<LabelSelector> out = new ArrayList<>();
        for (Service svc : services) {
            boolean match = s.name() != null
                    ? svc.name().equals(s.name()) && svc.namespace().equals(s.namespace())
                    : (s.namespace().isEmpty() || svc.namespace().equals(s.namespace()))
                      && s.serviceSelector().matches(LabelSet.of(svc.labels().entrySet().stream().map(en -> Label.k8s(en.getKey(), en.getValue())).toList()));
            if (!match || svc.selector() == null) continue;
            List<Requirement> reqs = new ArrayList<>();
            for (Map.Entry<String, String> en : svc.selector().entrySet()) {
                reqs.add(new Requirement(Label.SOURCE_K8S, en.getKey(), Requirement.Operator.IN, List.of(en.getValue())));
            }
            reqs.add(new Requirement(Label.SOURCE_K8S, K8sLabels.POD_NAMESPACE, Requirement.Operator.IN, List.of(svc.namespace())));
            out.add(new LabelSelector(reqs));
        }
        return out;
    }
}
