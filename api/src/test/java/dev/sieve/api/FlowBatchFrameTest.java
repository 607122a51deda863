package dev.sieve.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowBatchFrame;
import org.junit.jupiter.api.Test;

/** FlowBatchFrame is the relay's view of FlowBatch's bytes: the two messages must not drift apart. */
class FlowBatchFrameTest {
    @Test
    void sameFieldsAsFlowBatchWithFlowsAsBytes() {
        var batch = FlowBatch.getDescriptor().getFields();
        var frame = FlowBatchFrame.getDescriptor().getFields();
        assertThat(frame).hasSameSizeAs(batch);
        for (FieldDescriptor f : batch) {
            FieldDescriptor g = FlowBatchFrame.getDescriptor().findFieldByNumber(f.getNumber());
            assertThat(g).as("field %d", f.getNumber()).isNotNull();
            assertThat(g.getName()).isEqualTo(f.getName());
            assertThat(g.isRepeated()).isEqualTo(f.isRepeated());
            if (f.getName().equals("flows")) assertThat(g.getType()).isEqualTo(FieldDescriptor.Type.BYTES);
            else assertThat(g.getType()).isEqualTo(f.getType());
        }
    }

    @Test
    void aFlowBatchReadsAsAFrameWithEachFlowsBytes() throws Exception {
        Flow a = Flow.newBuilder().setUuid("a").setNodeName("n").build(), b = Flow.newBuilder().setUuid("b").build();
        FlowBatch batch = FlowBatch.newBuilder().setNodeName("n").setEpoch("e").setSequence(3).setFirstFlowSeq(7).setLostFlows(1)
                .addFlows(a).addFlows(b).build();
        FlowBatchFrame frame = FlowBatchFrame.parseFrom(batch.toByteString());
        assertThat(frame.getFlowsList()).containsExactly(a.toByteString(), b.toByteString());
        assertThat(frame.getNodeName()).isEqualTo("n");
        assertThat(frame.getSequence()).isEqualTo(3);
        assertThat(frame.toByteString()).isEqualTo(batch.toByteString());
    }
}
