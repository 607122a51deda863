package dev.sieve.flowfilter;

/** A FlowFilter value that cannot be understood (bad CIDR, selector, port, regex, ...); names the field. */
public final class InvalidFilterException extends IllegalArgumentException {
    public InvalidFilterException(String field, String value, String problem) {
        super("invalid " + field + " filter \"" + value + "\": " + problem);
    }
}
