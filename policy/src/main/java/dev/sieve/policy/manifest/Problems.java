package dev.sieve.policy.manifest;

import java.util.ArrayList;
import java.util.List;

/** Collects validation errors for one document of one file. */
final class Problems {

    private final String file;
    private final List<ValidationError> sink;
    private int document;
    private String object;

    Problems(String file, List<ValidationError> sink) {
        this.file = file;
        this.sink = sink;
    }

    void document(int document, String object) {
        this.document = document;
        this.object = object;
    }

    void object(String object) {
        this.object = object;
    }

    void add(String path, int line, String message) {
        sink.add(new ValidationError(file, document, object, path, line, message));
    }

    int count() {
        return sink.size();
    }

    static List<ValidationError> newSink() {
        return new ArrayList<>();
    }
}
