package dev.sieve.agent.source;

import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationException;

/**
 * Where the agent's policies, namespaces, pods and services come from. Today: manifest directories; a
 * Kubernetes API source implements the same interface.
 */
public interface ManifestSource extends AutoCloseable {

    /** Hears about every new state of the source, valid or not. */
    interface Listener {
        /** A complete, valid set: apply it. */
        void onUpdate(ManifestSet set);

        /** The source changed but does not validate: keep what is in force and report. */
        void onInvalid(ValidationException error);
    }

    /** Reads the source once now; throws when it does not validate. */
    ManifestSet read() throws ValidationException;

    /** Starts delivering changes to {@code listener} (on a thread of the source's own). */
    void start(Listener listener);

    /** Whether changes are being watched (false before start, after close, or if the watch died). */
    boolean alive();

    /** Failures to read or watch the source so far (each retried). */
    long watchErrors();

    @Override
    void close();
}
