package dev.sieve.policy.identity;

import dev.sieve.policy.labels.Label;
import dev.sieve.policy.labels.LabelSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * In-process allocator: reserved identities are fixed, cluster identities count up from 256, CIDR and FQDN
 * identities from the local scope (bit 24). Numbers of freed identities are not reused within a run, so a
 * stale number in a flow never names a different workload.
 *
 * <p>With a state file the numbers also survive a restart: every number handed out is written there, and a new
 * allocator gives each label set the number it had before. The kernel's pinned policy keys and ipcache name
 * identities by number, so an agent that numbered them differently after a restart would, until it rewrote
 * every key, allow or deny the wrong workloads.
 */
public final class LocalIdentityAllocator implements IdentityAllocator {

    private static final Logger LOG = Logger.getLogger(LocalIdentityAllocator.class.getName());

    private final Map<LabelSet, Identity> byLabels = new HashMap<>();
    private final Map<Integer, Identity> byId = new HashMap<>();
    private final Map<Integer, Integer> refs = new HashMap<>();
    /** Numbers an earlier run gave label sets not allocated again yet. */
    private final Map<LabelSet, Integer> restored = new HashMap<>();
    private final java.util.Set<Integer> restoredNumbers = new java.util.HashSet<>();
    private final Path stateFile;
    private boolean dirty;
    private int nextCluster = ReservedIdentity.MIN_CLUSTER_IDENTITY;
    private int nextLocal = ReservedIdentity.LOCAL_IDENTITY_FLAG + 1;

    public LocalIdentityAllocator() {
        this(null);
    }

    /** An allocator that keeps its numbers in {@code stateFile} (created when missing; null: in memory only). */
    public LocalIdentityAllocator(Path stateFile) {
        this.stateFile = stateFile;
        for (ReservedIdentity r : ReservedIdentity.values()) {
            if (r == ReservedIdentity.UNKNOWN) continue;
            Identity id = r.identity();
            byLabels.put(id.labels(), id);
            byId.put(id.id(), id);
        }
        if (stateFile != null) restore();
    }

    @Override
    public synchronized Identity allocate(LabelSet labels) {
        Identity id = byLabels.get(labels);
        if (id == null) {
            Integer before = restored.remove(labels);
            int n = before != null ? before : Identity.isLocalScope(labels) ? nextLocal++ : nextCluster++;
            id = new Identity(n, labels);
            byLabels.put(labels, id);
            byId.put(n, id);
            if (before == null) dirty = true;
        }
        if (!id.isReserved()) refs.merge(id.id(), 1, Integer::sum);
        return id;
    }

    /** One line per number: the number, then each label as source, key and value, all separated by tabs. */
    private void restore() {
        if (!Files.exists(stateFile)) return;
        try {
            for (String line : Files.readAllLines(stateFile, StandardCharsets.UTF_8)) {
                String[] f = line.split("\t", -1);
                if (f.length < 4 || (f.length - 1) % 3 != 0) continue;
                int n;
                try {
                    n = Integer.parseInt(f[0]);
                } catch (NumberFormatException e) {
                    continue;
                }
                List<Label> labels = new ArrayList<>();
                for (int i = 1; i < f.length; i += 3) labels.add(new Label(f[i], f[i + 1], f[i + 2]));
                LabelSet set = LabelSet.of(labels);
                boolean local = Identity.isLocalScope(set);
                if (n < ReservedIdentity.MIN_CLUSTER_IDENTITY || local != (n > ReservedIdentity.LOCAL_IDENTITY_FLAG)
                        || byId.containsKey(n) || !restoredNumbers.add(n)) {
                    continue;
                }
                restored.put(set, n);
                if (local) nextLocal = Math.max(nextLocal, n + 1);
                else nextCluster = Math.max(nextCluster, n + 1);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warning("identity state " + stateFile + " unreadable, numbering anew: " + e.getMessage());
            restored.clear();
        }
    }

    /**
     * Writes the numbers handed out since the last call (and those still remembered) to the state file. Call it
     * before the numbers reach the kernel. A failure is logged: the numbers then hold for this run only.
     */
    public synchronized void flush() {
        if (stateFile == null || !dirty) return;
        dirty = false;
        StringBuilder sb = new StringBuilder();
        for (Identity id : byId.values()) if (!id.isReserved()) line(sb, id.id(), id.labels());
        for (Map.Entry<LabelSet, Integer> e : restored.entrySet()) line(sb, e.getValue(), e.getKey());
        try {
            Files.createDirectories(stateFile.toAbsolutePath().getParent());
            Path tmp = stateFile.resolveSibling(stateFile.getFileName() + ".tmp");
            Files.writeString(tmp, sb, StandardCharsets.UTF_8);
            Files.move(tmp, stateFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | UncheckedIOException e) {
            LOG.warning("cannot write identity state " + stateFile + ": " + e.getMessage());
        }
    }

    private static void line(StringBuilder sb, int n, LabelSet labels) {
        sb.append(n);
        for (Label l : labels) sb.append('\t').append(l.source()).append('\t').append(l.key()).append('\t').append(l.value());
        sb.append('\n');
    }

    @Override
    public synchronized boolean release(Identity identity) {
        if (identity.isReserved()) return false;
        Integer n = refs.get(identity.id());
        if (n == null) return false;
        if (n > 1) {
            refs.put(identity.id(), n - 1);
            return false;
        }
        refs.remove(identity.id());
        byId.remove(identity.id());
        byLabels.remove(identity.labels());
        return true;
    }

    @Override
    public synchronized Identity lookup(int id) {
        return byId.get(id);
    }

    @Override
    public synchronized Identity lookup(LabelSet labels) {
        return byLabels.get(labels);
    }

    @Override
    public synchronized Collection<Identity> all() {
        List<Identity> out = new ArrayList<>(byId.values());
        out.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return out;
    }
}
