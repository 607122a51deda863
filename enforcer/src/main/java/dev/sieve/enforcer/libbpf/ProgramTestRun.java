package dev.sieve.enforcer.libbpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** BPF_PROG_TEST_RUN (bpf_prog_test_run_opts): runs a program on a packet in the kernel. */
public final class ProgramTestRun {
    private ProgramTestRun() {}

    /** Result of a run: the program's return value and the mean duration per run in ns. */
    public record Result(int retval, int durationNs) {}

    /**
     * Runs {@code progFd} {@code repeat} times on {@code packet}; {@code ctx} (may be null) is
     * the input {@code struct __sk_buff} (e.g. to set ifindex).
     */
    public static Result run(int progFd, byte[] packet, MemorySegment ctx, int repeat) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocate(packet.length, 8);
            data.copyFrom(MemorySegment.ofArray(packet));
            MemorySegment opts = a.allocate(LibBpf.TEST_RUN_OPTS_SIZE, 8);
            opts.set(ValueLayout.JAVA_LONG, 0, LibBpf.TEST_RUN_OPTS_SIZE);
            opts.set(ValueLayout.ADDRESS, 8, data);
            opts.set(ValueLayout.JAVA_INT, 24, packet.length);
            if (ctx != null) {
                opts.set(ValueLayout.ADDRESS, 32, ctx);
                opts.set(ValueLayout.JAVA_INT, 48, (int) ctx.byteSize());
            }
            opts.set(ValueLayout.JAVA_INT, 60, repeat);
            int rc = (int) LibBpf.PROG_TEST_RUN.invokeExact(progFd, opts);
            if (rc < 0) {
                throw BpfException.of("bpf_prog_test_run_opts", "prog fd " + progFd, -rc);
            }
            return new Result(opts.get(ValueLayout.JAVA_INT, 56), opts.get(ValueLayout.JAVA_INT, 64));
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
