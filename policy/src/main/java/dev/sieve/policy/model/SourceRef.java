package dev.sieve.policy.model;

/** Where an object was read from: a file and the 1-based document number inside it. */
public record SourceRef(String file, int document) {

    @Override
    public String toString() {
        return file + " (document " + document + ")";
    }
}
