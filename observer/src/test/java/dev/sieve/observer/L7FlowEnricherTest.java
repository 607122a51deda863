package dev.sieve.observer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.observer.enrich.EndpointResolver.PolicyRef;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.enrich.StaticResolver;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.PolicyKey;
import dev.sieve.policy.model.PolicyKind;
import dev.sieve.proxy.L7Event;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

/** The Hubble L7 flow of a proxy's event: endpoints from the addresses, type, event type, direction, verdict, policies. */
class L7FlowEnricherTest {

    static final PolicyKey API = new PolicyKey(PolicyKind.CILIUM_NETWORK_POLICY, "production", "api-http-filter");

    final StaticResolver resolver = new StaticResolver()
            .identity(1001, "k8s:app=api-consumer", "k8s:io.kubernetes.pod.namespace=production")
            .identity(1002, "k8s:app=api-server", "k8s:io.kubernetes.pod.namespace=production")
            .addressIdentity("10.0.0.1", 1001).addressIdentity("10.0.0.2", 1002)
            .pod("10.0.0.1", "production", "consumer").pod("10.0.0.2", "production", "api")
            .rule(7, new PolicyRef("CiliumNetworkPolicy", "production", "api-http-filter", List.of("k8s:io.cilium.k8s.policy.name=api-http-filter"), 1, false));
    final FlowEnricher enricher = new FlowEnricher(resolver, "node-1", LongUnaryOperator.identity());

    L7Event event(Verdict v, L7FlowType type, InetSocketAddress src, InetSocketAddress dst) {
        RuleInfo rule = new RuleInfo(7, API, "spec.ingress[0]", Direction.INGRESS, false);
        return new L7Event(1_700_000_000_123_456_789L, src, dst, 6, true, v, List.of(), List.of(rule),
                Layer7.newBuilder().setType(type).setLatencyNs(type == L7FlowType.RESPONSE ? 1234 : 0)
                        .setHttp(HTTP.newBuilder().setMethod("DELETE").setUrl("http://api/api/users").setCode(403)).build(),
                "HTTP/1.1 DELETE http://api/api/users", 10000);
    }

    @Test
    @SuppressWarnings("deprecation")
    void aDeniedRequestIsAnIngressL7FlowWithTheDenyingPolicy() {
        Flow f = enricher.enrich(event(Verdict.DROPPED, L7FlowType.REQUEST, new InetSocketAddress("10.0.0.1", 40000),
                new InetSocketAddress("10.0.0.2", 80)));
        assertThat(f.getType()).isEqualTo(FlowType.L7);
        assertThat(f.getEventType().getType()).isEqualTo(129);
        assertThat(f.getVerdict()).isEqualTo(Verdict.DROPPED);
        assertThat(f.getTrafficDirection()).isEqualTo(TrafficDirection.INGRESS);
        assertThat(f.getSource().getPodName()).isEqualTo("consumer");
        assertThat(f.getSource().getIdentity()).isEqualTo(1001);
        assertThat(f.getSource().getLabelsList()).contains("k8s:app=api-consumer");
        assertThat(f.getDestination().getPodName()).isEqualTo("api");
        assertThat(f.getDestination().getIdentity()).isEqualTo(1002);
        assertThat(f.getIP().getSource()).isEqualTo("10.0.0.1");
        assertThat(f.getL4().getTCP().getDestinationPort()).isEqualTo(80);
        assertThat(f.getL7().getHttp().getMethod()).isEqualTo("DELETE");
        assertThat(f.getSummary()).isEqualTo("HTTP/1.1 DELETE http://api/api/users");
        assertThat(f.getIngressDeniedByList()).extracting(p -> p.getName()).containsExactly("api-http-filter");
        assertThat(f.getIngressAllowedByList()).isEmpty();
        assertThat(f.getIsReply().getValue()).isFalse();
        assertThat(f.getProxyPort()).isEqualTo(10000);
        assertThat(f.getTime().getSeconds()).isEqualTo(1_700_000_000L);
        assertThat(f.getNodeName()).isEqualTo("node-1");
    }

    @Test
    void aResponseIsAReplyAndAllowedByThePolicy() {
        Flow f = enricher.enrich(event(Verdict.FORWARDED, L7FlowType.RESPONSE, new InetSocketAddress("10.0.0.2", 80),
                new InetSocketAddress("10.0.0.1", 40000)));
        assertThat(f.getIsReply().getValue()).isTrue();
        assertThat(f.getL7().getLatencyNs()).isEqualTo(1234);
        assertThat(f.getIngressAllowedByList()).extracting(p -> p.getName()).containsExactly("api-http-filter");
        assertThat(f.getSource().getPodName()).isEqualTo("api");
    }
}
