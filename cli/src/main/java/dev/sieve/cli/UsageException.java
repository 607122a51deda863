package dev.sieve.cli;

/** A clear one-line complaint about the user's input: printed without a stack trace, exit 2 ({@code ExitCode.USAGE}). */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
