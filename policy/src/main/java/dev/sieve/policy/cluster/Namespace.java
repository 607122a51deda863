package dev.sieve.policy.cluster;

import dev.sieve.policy.model.SourceRef;
import java.util.Map;

/** A Kubernetes Namespace: its labels feed every pod identity in it and namespaceSelectors. */
public record Namespace(String name, Map<String, String> labels, Map<String, String> annotations, SourceRef source) {

    /** Sieve's extension: policy verdicts of pods in this namespace are audited, not enforced. */
    public static final String AUDIT_ANNOTATION = "policy.sieve.dev/audit-mode";

    public boolean auditMode() {
        return "true".equalsIgnoreCase(annotations.getOrDefault(AUDIT_ANNOTATION, ""));
    }
}
