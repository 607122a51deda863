package dev.sieve.relay.query;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.observer.GetFlowsRequest;
import org.junit.jupiter.api.Test;

class FlowQueryTest {
    @Test
    void hubbleAllIsNoLimit() {
        // `hubble observe --all` sends number = 2^64-1; protobuf hands a uint64 to Java as a (here negative) long
        assertThat(FlowQuery.of(GetFlowsRequest.newBuilder().setNumber(-1L).build()).number()).isZero();
        assertThat(FlowQuery.of(GetFlowsRequest.newBuilder().setNumber(-1L).setFollow(true).build()).number()).isEqualTo(Long.MAX_VALUE);
        assertThat(FlowQuery.of(GetFlowsRequest.newBuilder().setNumber(20).build()).number()).isEqualTo(20);
    }
}
