package dev.sieve.relay.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.relay.store.FlowStore.Mark;
import dev.sieve.relay.store.FlowStore.StreamKey;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StreamOrderTest {
    final AtomicLong now = new AtomicLong();
    final StreamOrder order = new StreamOrder(now::get, Duration.ofSeconds(30));
    final StreamKey a = new StreamKey("a", "e"), b = new StreamKey("b", "e");

    static Mark at(long seq) {
        return new Mark(seq, seq * 10);
    }

    @Test
    void gapsAreAcceptedUntilSomethingFails() {
        assertThat(order.refusal(a, at(3), 9)).isNull();
        order.failed(a, 4);
        assertThat(order.refusal(a, at(3), 9)).contains("batch 9 of a/e follows batch 4");
        assertThat(order.refusal(b, at(3), 9)).as("other streams are not held").isNull();
    }

    @Test
    void heldUntilTheMarkPassesTheHighestFailedOrRefusedBatch() {
        order.failed(a, 4);
        order.failed(a, 6);
        assertThat(order.refusal(a, at(3), 4)).isNull();
        order.stored(a, at(4));
        assertThat(order.holding(a)).isTrue();
        assertThat(order.refusal(a, at(4), 8)).isNotNull(); // 8 is refused, so it is coming again too
        for (long s = 5; s <= 7; s++) {
            assertThat(order.refusal(a, at(s - 1), s)).isNull();
            order.stored(a, at(s));
            assertThat(order.holding(a)).isTrue();
        }
        order.stored(a, at(8));
        assertThat(order.holding(a)).isFalse();
        assertThat(order.refusal(a, at(8), 20)).isNull();
    }

    @Test
    void resendsAndProbesAreNeverRefused() {
        order.failed(a, 5);
        assertThat(order.refusal(a, at(7), 3)).isNull(); // already stored: the store skips it
        order.failed(a, 0);
        order.stored(a, at(7));
        assertThat(order.holding(a)).isFalse();
    }

    @Test
    void aGapStillThereLongAfterTheLastFailureIsAccepted() {
        order.failed(a, 4);
        now.addAndGet(Duration.ofSeconds(20).toNanos());
        order.failed(a, 5); // the store failed again: the clock restarts
        now.addAndGet(Duration.ofSeconds(20).toNanos());
        assertThat(order.refusal(a, at(3), 9)).isNotNull();
        now.addAndGet(Duration.ofSeconds(20).toNanos()); // refusals do not restart it
        assertThat(order.refusal(a, at(3), 9)).isNull();
        assertThat(order.holding(a)).isFalse();
    }
}
