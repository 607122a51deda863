package dev.sieve.relay.store.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.ICMPv4;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.Policy;
import dev.sieve.api.flow.SCTP;
import dev.sieve.api.flow.Workload;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.support.TestFlows;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The row written from a flow's bytes is byte for byte the row written from the parsed flow. */
class EncodedRowTest {
  static final long START = Timestamps.nanos(Instant.parse("2026-11-25T10:00:00Z"));

  static void assertSameRow(Flow f) {
    for (boolean labelColumns : new boolean[] {true, false}) {
      byte[] fromBytes = ClickHouseFlowStore.row(f, f.toByteString(), labelColumns);
      assertThat(fromBytes).as("scanned: %s", f.getUuid()).isNotNull();
      assertThat(fromBytes).as("row of %s", f.getUuid()).isEqualTo(ClickHouseFlowStore.row(f, null, labelColumns));
    }
  }

  @Test
  void generatedFlows() {
    for (Flow f : new TestFlows(3, "node-a", START).next(5_000)) assertSameRow(f);
  }

  @Test
  void flowsThatHoldOrLackAnything() {
    Flow base = new TestFlows(5, "node-a", START).next();
    List<Flow> odd = new ArrayList<>(List.of(
        Flow.getDefaultInstance(),
        Flow.newBuilder().setUuid("bare").build(),
        base.toBuilder().clearSource().clearIP().clearL4().build(),
        base.toBuilder().clearTime().build(),
        base.toBuilder().setTime(base.getTime().toBuilder().setSeconds(-5).setNanos(7)).build(),
        base.toBuilder().setSource(Endpoint.newBuilder().setIdentity(-1)).build(), // identity above 2^31
        base.toBuilder().setSource(base.getSource().toBuilder().clearWorkloads().clearPodName()
            .addLabels("reserved:host").addLabels("reserved:world")).build(),
        base.toBuilder().setSource(base.getSource().toBuilder().clearWorkloads()).build(),
        base.toBuilder().setSource(base.getSource().toBuilder().clearWorkloads().addWorkloads(Workload.newBuilder().setKind("Job"))
            .addWorkloads(Workload.newBuilder().setName("second"))).build(),
        base.toBuilder().setL4(Layer4.newBuilder().setICMPv4(ICMPv4.newBuilder().setType(8))).build(),
        base.toBuilder().setL4(Layer4.newBuilder().setSCTP(SCTP.newBuilder().setSourcePort(9).setDestinationPort(70000))).build(),
        base.toBuilder().setL4(Layer4.getDefaultInstance()).build(),
        base.toBuilder().addEgressAllowedBy(Policy.newBuilder().setName("a")).addIngressDeniedBy(Policy.newBuilder().setKind("K").setNamespace("n"))
            .addEgressDeniedBy(Policy.getDefaultInstance()).addIngressAllowedBy(Policy.newBuilder().setName("b").setRevision(3)).build(),
        base.toBuilder().setVerdictValue(200).setDropReasonDescValue(70000).setTrafficDirectionValue(3).build(),
        base.toBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
            .addField(4000, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build()).build()));
    for (int i = 0; i < odd.size(); i++) assertSameRow(odd.get(i).toBuilder().setUuid(odd.get(i).getUuid() + "#" + i).build());
  }

  @Test
  void whatOnlyAParserHandlesIsLeftToIt() {
    Flow base = new TestFlows(9, "node-a", START).next();
    ByteString bytes = base.toByteString();
    // the source endpoint twice: a parser merges the two
    ByteString twice = bytes.concat(Flow.newBuilder().setSource(Endpoint.newBuilder().setPodName("merged")).build().toByteString());
    assertThat(ClickHouseFlowStore.row(base, twice, true)).isNull();
    // a non-ASCII pod name: a parser checks its UTF-8
    Flow utf8 = base.toBuilder().setSource(base.getSource().toBuilder().setPodName("pöd")).build();
    assertThat(ClickHouseFlowStore.row(utf8, utf8.toByteString(), true)).isNull();
    // cut short
    assertThat(ClickHouseFlowStore.row(base, bytes.substring(0, bytes.size() - 3), true)).isNull();
    assertThat(ClickHouseFlowStore.row(base, bytes.substring(0, 1), true)).isNull();
  }
}
