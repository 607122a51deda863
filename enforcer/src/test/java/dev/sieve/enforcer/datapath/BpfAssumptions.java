package dev.sieve.enforcer.datapath;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.libbpf.BpfException;
import dev.sieve.enforcer.libbpf.LibBpf;
import dev.sieve.lab.Lab;

/** Skips (not fails) datapath tests where they cannot run: not root, no libbpf, no BPF permission. */
public final class BpfAssumptions {
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;

    private BpfAssumptions() {}

    public static void assumeBpfUsable() {
        assumeTrue(Lab.canRun(), "datapath tests need root and iproute2 (ip netns); skipped");
        assumeTrue(LibBpf.available(), "libbpf.so.1 is not loadable; skipped");
    }

    /** Opens the datapath, or skips the test when the kernel refuses BPF to this process. */
    public static Datapath openOrSkip(DatapathConfig config) {
        assumeBpfUsable();
        try {
            return Datapath.open(config);
        } catch (BpfException e) {
            if (e.errno() == EPERM || e.errno() == ENOSYS) {
                Datapath.unpinAll(config);
                assumeTrue(false, "BPF is not permitted here (" + e.getMessage().lines().findFirst().orElse("") + "); skipped");
            }
            throw e;
        }
    }

    /** Closes what a test opened (any may be null) and removes its pins and lab prefix. */
    public static void closeAll(VerdictEventReader reader, Datapath dp, DatapathConfig config) {
        if (reader != null) {
            reader.close();
        }
        if (dp != null) {
            dp.close();
        }
        if (config != null) {
            Datapath.unpinAll(config);
            Lab.release(config.prefix().substring(config.prefix().lastIndexOf('-') + 1));
        }
    }
}
