package dev.sieve.policy.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.labels.LabelSet;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Review finding F16: identity numbers survive a restart through the allocator's state file. */
class LocalIdentityAllocatorStateTest {

    static final LabelSet A = LabelSet.parse("k8s:app=a", "k8s:io.kubernetes.pod.namespace=x");
    static final LabelSet B = LabelSet.parse("k8s:app=b", "k8s:io.kubernetes.pod.namespace=x");
    static final LabelSet C = LabelSet.parse("k8s:app=c", "k8s:io.kubernetes.pod.namespace=x");
    static final LabelSet FQDN = LabelSet.parse("fqdn:*.amazonaws.com");

    @Test
    void aRestartGivesEveryLabelSetItsNumberBackInAnyOrder(@TempDir Path dir) {
        Path state = dir.resolve("identities");
        LocalIdentityAllocator first = new LocalIdentityAllocator(state);
        int a = first.allocate(A).id(), b = first.allocate(B).id(), c = first.allocate(C).id(), f = first.allocate(FQDN).id();
        first.release(first.lookup(A)); // gone before the restart: a plain counter would now shift B and C down
        first.flush();

        LocalIdentityAllocator second = new LocalIdentityAllocator(state);
        assertThat(second.allocate(C).id()).isEqualTo(c);
        assertThat(second.allocate(FQDN).id()).isEqualTo(f);
        assertThat(second.allocate(B).id()).isEqualTo(b);
        LabelSet d = LabelSet.parse("k8s:app=d");
        assertThat(second.allocate(d).id()).as("a new label set gets a number no earlier run used").isGreaterThan(c);
        assertThat(a).isLessThan(b);
    }

    @Test
    void withoutFlushNothingIsWrittenAndAnUnreadableFileMeansFreshNumbers(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("identities");
        new LocalIdentityAllocator(state).allocate(A);
        assertThat(state).doesNotExist();
        Files.writeString(state, "not\ta\tnumber\nx\n300\tk8s\n");
        LocalIdentityAllocator fresh = new LocalIdentityAllocator(state);
        assertThat(fresh.allocate(A).id()).isEqualTo(ReservedIdentity.MIN_CLUSTER_IDENTITY);
    }
}
