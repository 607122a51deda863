package dev.sieve.relay.store;

/** The store could not do what was asked; transient unless said otherwise (ingest answers STATUS_RETRY). */
public class StoreException extends Exception {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
