package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.enforcer.datapath.LocalDelivery;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentOptionsTest {
    static final String[] REQUIRED = {"--node-name", "n1", "--manifests", "/tmp/m"};

    static AgentOptions parse(Map<String, String> env, String... extra) {
        String[] args = new String[REQUIRED.length + extra.length];
        System.arraycopy(REQUIRED, 0, args, 0, REQUIRED.length);
        System.arraycopy(extra, 0, args, REQUIRED.length, extra.length);
        return AgentOptions.parse(args, env);
    }

    @Test
    void localDeliveryIsBpfUnlessAskedForByFlagOrEnvironment() {
        assertThat(parse(Map.of()).localDelivery()).isEqualTo(LocalDelivery.BPF);
        assertThat(parse(Map.of(), "--local-delivery", "stack").localDelivery()).isEqualTo(LocalDelivery.STACK);
        assertThat(parse(Map.of("SIEVE_LOCAL_DELIVERY", "STACK")).localDelivery()).isEqualTo(LocalDelivery.STACK);
        assertThat(parse(Map.of("SIEVE_LOCAL_DELIVERY", "bpf"), "--local-delivery=stack").localDelivery()).isEqualTo(LocalDelivery.STACK);
    }

    @Test
    void proxyPortRangeIsCiliumsUnlessGivenByFlagOrEnvironment() {
        AgentOptions d = parse(Map.of());
        assertThat(new int[] {d.proxyPortLow(), d.proxyPortHigh()}).containsExactly(10000, 20000);
        AgentOptions f = parse(Map.of("SIEVE_PROXY_PORT_RANGE", "30000-30100"), "--proxy-port-range", "40000-40010");
        assertThat(new int[] {f.proxyPortLow(), f.proxyPortHigh()}).containsExactly(40000, 40010);
        AgentOptions e = parse(Map.of("SIEVE_PROXY_PORT_RANGE", "30000-30100"));
        assertThat(e.proxyPortLow()).isEqualTo(30000);
        for (String bad : List.of("10000", "2-1", "1-70000", "a-b", "10000-10002")) {
            assertThatThrownBy(() -> parse(Map.of(), "--proxy-port-range", bad))
                    .isInstanceOf(AgentOptions.BadOption.class).hasMessageContaining("--proxy-port-range");
        }
    }

    @Test
    void proxyUplinksAreAListOrNoneOrLeftToTheDefaultRoute() {
        assertThat(parse(Map.of()).proxyUplinks()).isNull();
        assertThat(parse(Map.of(), "--proxy-uplinks", "eth0, eth1").proxyUplinks()).containsExactly("eth0", "eth1");
        assertThat(parse(Map.of("SIEVE_PROXY_UPLINKS", "none")).proxyUplinks()).isEmpty();
    }

    @Test
    void mapSizesAreCiliumLikeUnlessGivenByFlagOrEnvironment() {
        assertThat(parse(Map.of()).mapSizes()).isEqualTo(dev.sieve.enforcer.datapath.MapSizes.DEFAULT);
        var s = parse(Map.of("SIEVE_BPF_CT_GLOBAL_MAX", "1000", "SIEVE_BPF_POLICY_MAP_MAX", "2000"),
                "--bpf-policy-map-max", "3000", "--bpf-ipcache-map-max=4000", "--bpf-endpoint-map-max", "50").mapSizes();
        assertThat(s).isEqualTo(new dev.sieve.enforcer.datapath.MapSizes(1000, 3000, 4000, 50));
        assertThatThrownBy(() -> parse(Map.of(), "--bpf-ct-global-max", "lots"))
                .isInstanceOf(AgentOptions.BadOption.class).hasMessageContaining("--bpf-ct-global-max").hasMessageContaining("lots");
        assertThatThrownBy(() -> parse(Map.of(), "--bpf-policy-map-max", "0"))
                .isInstanceOf(AgentOptions.BadOption.class).hasMessageContaining("--bpf-policy-map-max");
    }

    @Test
    void anUnknownLocalDeliveryNamesTheFlagAndTheValue() {
        assertThatThrownBy(() -> parse(Map.of(), "--local-delivery", "xdp"))
                .isInstanceOf(AgentOptions.BadOption.class)
                .hasMessageContaining("--local-delivery")
                .hasMessageContaining("'xdp'");
    }

    @Test
    void tlsFlagsAndTheirEnvironmentVariables() {
        AgentOptions none = parse(Map.of());
        assertThat(none.observerTls()).isNull();
        assertThat(none.relayTls()).isNull();
        AgentOptions f = parse(Map.of("SIEVE_TLS_CLIENT_CA_FILES", "/c/ca.crt"), "--tls-cert-file", "/c/n.crt", "--tls-key-file", "/c/n.key",
                "--relay-tls-ca-files", "/c/ca.crt,/c/ca2.crt", "--relay-tls-cert-file", "/c/n.crt", "--relay-tls-key-file", "/c/n.key",
                "--relay-tls-server-name", "relay.sieve");
        assertThat(f.observerTls().certFile()).hasToString("/c/n.crt");
        assertThat(f.observerTls().clientCaFiles()).hasSize(1);
        assertThat(f.relayTls().caFiles()).hasSize(2);
        assertThat(f.relayTls().serverName()).isEqualTo("relay.sieve");
        AgentOptions e = parse(Map.of("SIEVE_RELAY_TLS_CA_FILES", "/c/ca.crt"));
        assertThat(e.relayTls().certFile()).isNull();
        assertThatThrownBy(() -> parse(Map.of(), "--tls-cert-file", "/c/n.crt")).hasMessageContaining("--tls-key-file");
        assertThatThrownBy(() -> parse(Map.of(), "--relay-tls-key-file", "/c/n.key")).hasMessageContaining("--relay-tls-cert-file");
        assertThatThrownBy(() -> parse(Map.of(), "--tls-client-ca-files", "/c/ca.crt")).hasMessageContaining("--tls-cert-file");
    }
}
