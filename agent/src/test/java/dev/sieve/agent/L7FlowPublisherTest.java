package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Verdict;
import dev.sieve.proxy.L7Event;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class L7FlowPublisherTest {

    static L7Event event(int n) {
        return new L7Event(n, new InetSocketAddress("10.0.0.1", 1000 + n), new InetSocketAddress("10.0.0.2", 80), 6, true,
                Verdict.FORWARDED, List.of(), List.of(), Layer7.newBuilder().setType(L7FlowType.REQUEST).build(), "e" + n, 10000);
    }

    @Test
    void everyEventIsPublishedInOrderOffTheCallersThread() throws Exception {
        List<Long> seen = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        try (L7FlowPublisher p = new L7FlowPublisher(1024, e -> {
            seen.add(e.epochNanos());
            threads.add(Thread.currentThread().getName());
        }, n -> { })) {
            for (int round = 0; round < 5; round++) { // with pauses: the publisher sleeps in between and is woken
                for (int i = 0; i < 100; i++) p.accept(event(round * 100 + i));
                Thread.sleep(30);
            }
        }
        assertThat(seen).hasSize(500);
        for (int i = 0; i < 500; i++) assertThat(seen.get(i)).isEqualTo(i);
        assertThat(threads).allMatch(t -> t.equals("sieve-l7-flows"));
    }

    @Test
    void aStuckPublisherNeverBlocksTheProxyItLosesAndReportsEvents() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong published = new AtomicLong(), lost = new AtomicLong();
        try (L7FlowPublisher p = new L7FlowPublisher(16, e -> {
            try {
                release.await();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            published.incrementAndGet();
        }, lost::addAndGet)) {
            long start = System.nanoTime();
            for (int i = 0; i < 1000; i++) p.accept(event(i));
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("accept never waits").isLessThan(1000);
            release.countDown();
        }
        assertThat(published.get() + lost.get()).isEqualTo(1000);
        assertThat(lost.get()).as("a full queue loses events, counted").isPositive();
    }
}
