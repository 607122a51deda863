package dev.sieve.relay.explain;

import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationError;
import dev.sieve.policy.manifest.ValidationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The manifests (policies, namespaces, pods, services) the relay explains flows with: the same folders the node
 * agents enforce ({@code --manifests}), read with the policy engine's parser and compiled by its engine. Re-read
 * when a file changes (checked at most once a second, when asked); a set that fails validation is not taken, the
 * last valid one stays and the errors are reported with it — as the agent does.
 */
public final class PolicySet {
    private static final Logger LOG = Logger.getLogger(PolicySet.class);

    /** One compiled set. The engine is not thread-safe: use it under {@code synchronized (loaded)}. */
    public record Loaded(ManifestSet set, PolicyEngine engine, Instant loadedAt, List<String> errors) {}

    private final List<Path> paths;
    private final EnforcementMode mode;
    private Loaded current;
    private List<String> errors = List.of();
    private long fingerprint;
    private long checkedAt;

    public PolicySet(List<Path> paths, EnforcementMode mode) {
        this.paths = List.copyOf(paths);
        this.mode = mode;
    }

    public boolean configured() {
        return !paths.isEmpty();
    }

    public List<Path> paths() {
        return paths;
    }

    /** The current set (null when none is configured or none was ever valid); {@link Loaded#errors()} of the last read. */
    public synchronized Loaded get() {
        if (paths.isEmpty()) return null;
        long now = System.nanoTime();
        if (current != null && now - checkedAt < 1_000_000_000L) return current;
        checkedAt = now;
        long fp = fingerprint();
        if (current != null && fp == fingerprint) return current;
        fingerprint = fp;
        try {
            ManifestSet set = ManifestParser.load(paths);
            errors = List.of();
            current = compile(set, List.of());
            LOG.infof("explain: %d policies, %d pods from %s", set.policies().size(), set.pods().size(), paths);
        } catch (ValidationException e) {
            errors = e.errors().stream().map(ValidationError::toString).toList();
            LOG.warnf("explain: manifests in %s are invalid, keeping the last valid set: %s", paths, errors);
            if (current != null) current = new Loaded(current.set(), current.engine(), current.loadedAt(), errors);
        }
        return current;
    }

    /** A fresh engine over {@code set} (also used to check a suggested policy). */
    public Loaded compile(ManifestSet set, List<String> errs) {
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), mode, null);
        engine.load(set);
        return new Loaded(set, engine, Instant.now(), errs);
    }

    /** Paths, sizes and modification times of every manifest file: changes when any file does. */
    private long fingerprint() {
        long h = 17;
        for (Path p : paths) {
            try (Stream<Path> s = Files.isDirectory(p) ? Files.walk(p) : Stream.of(p)) {
                for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                    h = h * 31 + f.toString().hashCode();
                    h = h * 31 + Files.size(f);
                    h = h * 31 + Files.getLastModifiedTime(f).toMillis();
                }
            } catch (IOException e) {
                h = h * 31 + e.getClass().hashCode();
            }
        }
        return h;
    }
}
