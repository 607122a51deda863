package dev.sieve.enforcer.maps;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The metrics array's slots: every key the datapath counts has its own, and reads back as itself. */
class MetricsKeyTest {
    @Test
    void everyCountedKeyHasItsOwnSlotAndReadsBack() {
        Set<Integer> slots = new HashSet<>();
        for (int verdict : new int[] {0, 1, 2, 4, 5}) {
            for (Direction d : new Direction[] {null, Direction.INGRESS, Direction.EGRESS}) {
                for (int reason : new int[] {0, 132, 133, 134, 135, 155, 156, 181, 203}) {
                    MetricsKey k = new MetricsKey(verdict, d, reason);
                    assertThat(k.slot()).isBetween(0, MetricsKey.SLOTS - 1);
                    assertThat(slots.add(k.slot())).as(k + " shares a slot").isTrue();
                    assertThat(MetricsKey.ofSlot(k.slot())).isEqualTo(k);
                }
            }
        }
        assertThat(MetricsKey.LOST_EVENTS.slot()).isZero();
        assertThat(MetricsKey.ofSlot(new MetricsKey(2, Direction.INGRESS, 999).slot()).dropReason()).as("other reasons").isEqualTo(0xffff);
    }
}
