package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.enforcer.datapath.LocalDelivery;
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
    void anUnknownLocalDeliveryNamesTheFlagAndTheValue() {
        assertThatThrownBy(() -> parse(Map.of(), "--local-delivery", "xdp"))
                .isInstanceOf(AgentOptions.BadOption.class)
                .hasMessageContaining("--local-delivery")
                .hasMessageContaining("'xdp'");
    }
}
