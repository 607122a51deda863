package dev.sieve.relay.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.store.FlowStore.StreamKey;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import dev.sieve.relay.support.TestFlows;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MemoryFlowStoreTest extends FlowStoreContract {
    private final List<MemoryFlowStore> opened = new ArrayList<>();

    @Override
    protected FlowStore store() {
        MemoryFlowStore s = new MemoryFlowStore(100_000);
        opened.add(s);
        return s;
    }

    @AfterEach
    void close() {
        opened.forEach(MemoryFlowStore::close);
    }

    @Test
    void ringDropsOldestChunksAtCapacity() throws Exception {
        MemoryFlowStore s = new MemoryFlowStore(16_384); // chunks of 1,024
        opened.add(s);
        TestFlows g = new TestFlows(3, "node-a", START);
        List<Flow> all = new ArrayList<>();
        for (int b = 1; b <= 40; b++) {
            List<Flow> batch = g.next(1000);
            all.addAll(batch);
            s.append(new StreamKey("node-a", "e"), b, (b - 1) * 1000L + 1, batch);
        }
        assertThat(s.size()).isBetween(16_384L - 1024, 16_384L);
        List<Flow> held = s.query(FlowQuery.all());
        assertThat(held).hasSize((int) s.size());
        assertThat(held.getLast().getUuid()).isEqualTo(all.getLast().getUuid());
        assertThat(held.getFirst().getUuid()).isEqualTo(all.get(all.size() - held.size()).getUuid());
    }

    /** A batch of 2,048 flows or more is read in two halves at once: the same rows, and the first bad flow's error. */
    @Test
    void largeBatchesReadInTwoHalvesStoreTheSameAndRefuseWhole() throws Exception {
        MemoryFlowStore s = new MemoryFlowStore(100_000);
        opened.add(s);
        TestFlows g = new TestFlows(4, "node-a", START);
        StreamKey k = new StreamKey("node-a", "e");
        List<Flow> batch = g.next(5000);
        s.append(k, 1, 1, batch);
        assertThat(s.query(FlowQuery.all())).containsExactlyElementsOf(batch);
        for (int[] bad : new int[][] {{4000}, {100, 4000}, {2500, 2600}}) {
            List<com.google.protobuf.ByteString> bytes = new ArrayList<>(g.next(5000).stream().map(Flow::toByteString).toList());
            for (int i : bad) bytes.set(i, bytes.get(i).substring(0, 5));
            var b = new FlowStore.Batch(k, 2, 5001, new EncodedBatch(bytes), 0, false);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.appendAsync(b))
                    .isInstanceOf(EncodedBatch.MalformedFlowException.class).hasMessageStartingWith("flows[" + bad[0] + "]");
            assertThat(s.size()).as("a batch with a bad flow stores nothing").isEqualTo(5000);
        }
        List<Flow> next = g.next(3000);
        s.append(k, 2, 5001, next);
        List<Flow> all = new ArrayList<>(batch);
        all.addAll(next);
        assertThat(s.query(FlowQuery.all())).containsExactlyElementsOf(all);
    }
}
