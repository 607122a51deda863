package dev.sieve.lab;

/** Outcome of a command run in a namespace. */
public record ExecResult(int exitCode, String stdout, String stderr) {
    public boolean ok() {
        return exitCode == 0;
    }

    /** Returns this result, or throws naming the command when it failed. */
    public ExecResult orThrow(String what) {
        if (exitCode != 0) {
            throw new LabException(what + " failed (exit " + exitCode + "): " + stderr.strip());
        }
        return this;
    }
}
