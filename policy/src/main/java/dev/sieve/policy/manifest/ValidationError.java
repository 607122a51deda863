package dev.sieve.policy.manifest;

/**
 * One problem found in a manifest: the file, the 1-based document in it, the object (kind and name, when
 * known), the field path such as {@code spec.ingress[0].toPorts[0].ports[0].port}, the line, and what is wrong.
 */
public record ValidationError(String file, int document, String object, String path, int line, String message) {

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(file);
        if (line > 0) sb.append(':').append(line);
        sb.append(": document ").append(document);
        if (object != null) sb.append(" (").append(object).append(')');
        sb.append(": ");
        if (path != null && !path.isEmpty()) sb.append(path).append(": ");
        sb.append(message);
        return sb.toString();
    }
}
