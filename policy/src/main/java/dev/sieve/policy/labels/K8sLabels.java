package dev.sieve.policy.labels;

/** The label keys Cilium derives from Kubernetes objects; policies and identities use the same names. */
public final class K8sLabels {

    public static final String POD_NAMESPACE = "io.kubernetes.pod.namespace";
    public static final String NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels.";
    public static final String POLICY_CLUSTER = "io.cilium.k8s.policy.cluster";
    public static final String SERVICE_ACCOUNT = "io.cilium.k8s.policy.serviceaccount";
    public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
    public static final String DEFAULT_CLUSTER = "default";

    private K8sLabels() {}

    /** Pod labels that change with every rollout and would explode identity cardinality (as Cilium excludes). */
    public static boolean identityRelevant(String key) {
        return switch (key) {
            case "pod-template-hash", "controller-revision-hash", "pod-template-generation",
                 "statefulset.kubernetes.io/pod-name", "controller-uid", "batch.kubernetes.io/controller-uid",
                 "job-name", "batch.kubernetes.io/job-name" -> false;
            default -> true;
        };
    }
}
