package dev.sieve.policy.manifest;

import java.util.List;
import java.util.stream.Collectors;

/** A manifest set that failed validation; nothing of it may be applied. */
public final class ValidationException extends Exception {

    private final List<ValidationError> errors;

    public ValidationException(List<ValidationError> errors) {
        super(errors.size() + " error(s):\n" + errors.stream().map(e -> "  " + e).collect(Collectors.joining("\n")));
        this.errors = List.copyOf(errors);
    }

    public List<ValidationError> errors() {
        return errors;
    }
}
