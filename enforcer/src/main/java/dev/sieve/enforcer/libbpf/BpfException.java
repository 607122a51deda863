package dev.sieve.enforcer.libbpf;

/** A libbpf or kernel call failed; the message names the call, the object and errno. */
public class BpfException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public BpfException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** Builds "function(what) failed: errno N (text)" plus any libbpf log lines of this thread. */
    public static BpfException of(String function, String what, int errno) {
        StringBuilder sb = new StringBuilder(function).append('(').append(what).append(") failed: errno ")
                .append(errno).append(" (").append(LibBpf.strerror(errno)).append(')');
        String log = LibBpf.drainLog();
        if (!log.isEmpty()) {
            sb.append("\nlibbpf log:\n").append(log);
        }
        return new BpfException(sb.toString(), errno);
    }

    public int errno() {
        return errno;
    }
}
