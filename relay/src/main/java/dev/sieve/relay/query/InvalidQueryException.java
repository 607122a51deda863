package dev.sieve.relay.query;

/** A query the relay cannot answer as asked (bad value, unsupported filter field); maps to INVALID_ARGUMENT / HTTP 400. */
public class InvalidQueryException extends IllegalArgumentException {
    public InvalidQueryException(String message) {
        super(message);
    }
}
