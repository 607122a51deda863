package dev.sieve.observer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.Flow;
import dev.sieve.observer.buffer.FlowRing;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FlowRingTest {

    @Test
    void keepsTheNewestCapacityFlowsAndCountsSeen() {
        FlowRing ring = new FlowRing(4);
        for (int i = 0; i < 6; i++) ring.append(Flow.newBuilder().setNodeName("n" + i).build());
        assertThat(ring.size()).isEqualTo(4);
        assertThat(ring.seen()).isEqualTo(6);
        assertThat(ring.oldestSeq()).isEqualTo(2);
        assertThat(ring.get(1)).isNull();
        assertThat(ring.get(2).flow().getNodeName()).isEqualTo("n2");
        assertThat(ring.get(5).flow().getNodeName()).isEqualTo("n5");
        assertThat(ring.get(6)).isNull();
        ring.recordLost(3);
        assertThat(ring.lost()).isEqualTo(3);
        assertThat(new FlowRing().capacity()).isEqualTo(65_536);
        assertThatThrownBy(() -> new FlowRing(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void followersAreWokenByTheWriter() throws Exception {
        FlowRing ring = new FlowRing(8);
        CountDownLatch waiting = new CountDownLatch(1);
        AtomicLong result = new AtomicLong(-1);
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                waiting.countDown();
                result.set(ring.awaitAfter(0, 30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        waiting.await();
        ring.append(Flow.getDefaultInstance());
        reader.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(result.get()).isEqualTo(1);
    }
}
