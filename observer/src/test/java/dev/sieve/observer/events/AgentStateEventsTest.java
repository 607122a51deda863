package dev.sieve.observer.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.AgentEvent;
import dev.sieve.api.flow.AgentEventType;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The agent events a sequence of manifest changes produces, as Cilium would emit them. */
class AgentStateEventsTest {

    static final String NS = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            """;

    static String pod(String name, String ip, String node) {
        return """
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: %s, namespace: shop, labels: {app: %s}}
                spec: {nodeName: %s}
                status: {podIP: %s}
                """.formatted(name, name, node, ip);
    }

    static final String POLICY = """
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: web-in, namespace: shop}
            spec:
              endpointSelector: {matchLabels: {app: web}}
              ingress:
              - fromEndpoints: [{matchLabels: {app: client}}]
            """;

    final AgentEventHub hub = new AgentEventHub("node-1");
    final AgentStateEvents events = new AgentStateEvents(hub, "node-1");
    final PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, "node-1");

    List<AgentEvent> apply(String yaml) throws Exception {
        long from = hub.nextSeq();
        engine.sync(ManifestParser.parse("test.yaml", yaml));
        events.update(engine, key -> key.equals("shop/web") ? 11 : 0);
        return hub.from(from).stream().map(e -> e.response().getAgentEvent()).toList();
    }

    static List<AgentEventType> types(List<AgentEvent> evs) {
        return evs.stream().map(AgentEvent::getType).toList();
    }

    @Test
    void startedThenCreatedUpdatedRegeneratedDeleted() throws Exception {
        events.started();
        assertThat(hub.from(0).getFirst().response().getAgentEvent().getType()).isEqualTo(AgentEventType.AGENT_STARTED);

        List<AgentEvent> first = apply(NS + pod("web", "10.1.0.1", "node-1") + pod("client", "10.1.0.2", "node-2") + POLICY);
        assertThat(types(first)).containsOnlyOnce(AgentEventType.POLICY_UPDATED, AgentEventType.ENDPOINT_CREATED)
                .contains(AgentEventType.ENDPOINT_REGENERATE_SUCCESS, AgentEventType.IPCACHE_UPSERTED);
        AgentEvent created = first.stream().filter(e -> e.getType() == AgentEventType.ENDPOINT_CREATED).findFirst().orElseThrow();
        assertThat(created.getEndpointUpdate().getPodName()).isEqualTo("web"); // client runs on node-2: no endpoint here
        assertThat(created.getEndpointUpdate().getId()).isEqualTo(11);
        assertThat(created.getEndpointUpdate().getLabelsList()).contains("k8s:app=web");
        AgentEvent policy = first.stream().filter(e -> e.getType() == AgentEventType.POLICY_UPDATED).findFirst().orElseThrow();
        assertThat(policy.getPolicyUpdate().getLabelsList()).containsExactly("k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy",
                "k8s:io.cilium.k8s.policy.name=web-in", "k8s:io.cilium.k8s.policy.namespace=shop");
        assertThat(policy.getPolicyUpdate().getRuleCount()).isEqualTo(1);
        assertThat(first).filteredOn(e -> e.getType() == AgentEventType.IPCACHE_UPSERTED)
                .anySatisfy(e -> {
                    assertThat(e.getIpcacheUpdate().getCidr()).isEqualTo("10.1.0.2/32");
                    assertThat(e.getIpcacheUpdate().getPodName()).isEqualTo("client");
                    assertThat(e.getIpcacheUpdate().getNamespace()).isEqualTo("shop");
                });

        assertThat(apply(NS + pod("web", "10.1.0.1", "node-1") + pod("client", "10.1.0.2", "node-2") + POLICY))
                .as("the same set again changes nothing").isEmpty();

        List<AgentEvent> removed = apply(NS + pod("client", "10.1.0.2", "node-2"));
        assertThat(types(removed)).contains(AgentEventType.POLICY_DELETED, AgentEventType.ENDPOINT_DELETED, AgentEventType.IPCACHE_DELETED)
                .doesNotContain(AgentEventType.ENDPOINT_CREATED);
        assertThat(removed).filteredOn(e -> e.getType() == AgentEventType.IPCACHE_DELETED)
                .anySatisfy(e -> assertThat(e.getIpcacheUpdate().getCidr()).isEqualTo("10.1.0.1/32"));
    }
}
