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
}
