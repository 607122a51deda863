package dev.sieve.policy.verdicts;

import static dev.sieve.policy.trace.Verdict.DROPPED;
import static dev.sieve.policy.trace.Verdict.FORWARDED;
import static dev.sieve.policy.trace.Verdict.REDIRECTED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.testing.VerdictCase;
import dev.sieve.policy.testing.VerdictCase.Manifests;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Verdict;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Each seed example against the demo cluster (examples/cluster/cluster.yaml): what it allows and what it drops. */
class SeedExampleVerdictsTest {

    static void check(VerdictCase c) {
        TraceResult r = c.run();
        assertThat(r.verdict()).as("%s\n  reason: %s", c, r.reason()).isEqualTo(c.expected());
    }

    private static VerdictCase c(Manifests m, String traffic, Verdict v) {
        return VerdictCase.of(m, traffic, v);
    }

    // ---- 01: L3/L4 -----------------------------------------------------------------------------------

    static final Manifests E01 = Manifests.examples("01-allow-frontend-to-backend.yaml");

    static Stream<VerdictCase> allowFrontendToBackend() {
        return Stream.of(
                c(E01, "production/frontend -> production/backend 8080", FORWARDED),
                c(E01, "ip:fd00:10:244:1::10 -> production/backend 8080", FORWARDED), // frontend's IPv6 address
                c(E01, "production/frontend -> production/backend 8080/UDP", DROPPED),
                c(E01, "production/frontend -> production/backend 9090", DROPPED),
                c(E01, "production/frontend -> production/backend 80", DROPPED),
                c(E01, "production/prod-client -> production/backend 8080", DROPPED),
                c(E01, "development/dev-client -> production/backend 8080", DROPPED),
                c(E01, "ip:8.8.8.8 -> production/backend 8080", DROPPED),
                c(E01, "production/backend -> ip:8.8.8.8 443", FORWARDED), // ingress-only: egress stays open
                c(E01, "production/frontend -> production/api-server 80", FORWARDED)); // api-server is not selected
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void allowFrontendToBackend(VerdictCase c) {
        check(c);
    }

    // ---- 02: L7 HTTP ---------------------------------------------------------------------------------

    static final Manifests E02 = Manifests.examples("02-api-http-filter.yaml");

    static Stream<VerdictCase> apiHttpFilter() {
        return Stream.of(
                c(E02, "production/api-consumer -> production/api-server 80 http GET /api/users", FORWARDED),
                c(E02, "production/api-consumer -> production/api-server 80 http GET /api/", FORWARDED),
                c(E02, "production/api-consumer -> production/api-server 80 http GET /api/users?limit=5", FORWARDED),
                c(E02, "production/api-consumer -> production/api-server 80 http GET /apix", DROPPED), // full match
                c(E02, "production/api-consumer -> production/api-server 80 http GET /v2/api/users", DROPPED),
                c(E02, "production/api-consumer -> production/api-server 80 http DELETE /api/users", DROPPED),
                c(E02, "production/api-consumer -> production/api-server 80 http PUT /api/submit", DROPPED),
                // "X-App-Token: .*" is an exact value match in Cilium, not a regex
                c(E02, "production/api-consumer -> production/api-server 80 http POST /api/submit X-App-Token=.*", FORWARDED),
                c(E02, "production/api-consumer -> production/api-server 80 http POST /api/submit X-App-Token=abc", DROPPED),
                c(E02, "production/api-consumer -> production/api-server 80 http POST /api/submit", DROPPED),
                c(E02, "production/api-consumer -> production/api-server 80 http POST /api/submit/x X-App-Token=.*", DROPPED),
                c(E02, "production/api-consumer -> production/api-server 80", REDIRECTED), // no request: the proxy decides
                c(E02, "production/api-consumer -> production/api-server 8080", DROPPED),
                c(E02, "production/frontend -> production/api-server 80 http GET /api/users", DROPPED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void apiHttpFilter(VerdictCase c) {
        check(c);
    }

    // ---- 03: DNS-aware egress ------------------------------------------------------------------------

    static final Manifests E03 = Manifests.examples("03-allow-s3-egress.yaml");

    static Stream<VerdictCase> allowS3Egress() {
        return Stream.of(
                c(E03, "data-pipeline/uploader -> kube-system/kube-dns 53/UDP dns s3.amazonaws.com", FORWARDED),
                c(E03, "data-pipeline/uploader -> kube-system/kube-dns 53/TCP dns s3.amazonaws.com.", FORWARDED),
                c(E03, "data-pipeline/uploader -> kube-system/kube-dns 53/UDP dns API.Example.com", FORWARDED),
                c(E03, "data-pipeline/uploader -> kube-system/kube-dns 53/UDP dns www.google.com", DROPPED),
                c(E03, "data-pipeline/uploader -> kube-system/kube-dns 53/UDP dns a.b.amazonaws.com", DROPPED), // * is one label
                c(E03, "data-pipeline/uploader -> kube-system/kube-dns 53/UDP dns amazonaws.com", DROPPED),
                c(E03, "data-pipeline/uploader -> kube-system/kube-dns 53/UDP", REDIRECTED),
                c(E03, "data-pipeline/uploader -> kube-system/kube-dns 80", DROPPED),
                c(E03, "data-pipeline/uploader -> fqdn:s3.amazonaws.com=52.216.1.1 443", FORWARDED),
                c(E03, "data-pipeline/uploader -> fqdn:api.example.com=203.0.113.20 443", FORWARDED),
                c(E03, "data-pipeline/uploader -> fqdn:mybucket.s3.amazonaws.com=52.216.1.2 443", DROPPED),
                c(E03, "data-pipeline/uploader -> fqdn:s3.amazonaws.com=52.216.1.3 80", DROPPED),
                c(E03, "data-pipeline/uploader -> fqdn:evil.example.net=203.0.113.66 443", DROPPED),
                c(E03, "data-pipeline/uploader -> ip:52.216.9.9 443", DROPPED), // an address nobody resolved
                c(E03, "data-pipeline/uploader -> production/backend 8080", DROPPED),
                c(E03, "production/frontend -> kube-system/kube-dns 53/UDP", FORWARDED)); // kube-dns has no ingress policy
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void allowS3Egress(VerdictCase c) {
        check(c);
    }

    // ---- 04: deny precedence -------------------------------------------------------------------------

    static final Manifests E04 = Manifests.examples("04-deny-dev-to-prod-db.yaml");

    static Stream<VerdictCase> denyDevToProdDb() {
        return Stream.of(
                c(E04, "production/prod-client -> production/database 5432", FORWARDED),
                c(E04, "production/frontend -> production/database 5432", FORWARDED),
                c(E04, "messaging/producer -> production/database 5432", FORWARDED),
                c(E04, "ip:10.250.0.1 -> production/database 5432", FORWARDED), // remote-node is part of cluster
                c(E04, "entity:health -> production/database 5432", FORWARDED),
                c(E04, "development/dev-client -> production/database 5432", DROPPED),
                c(E04, "development/dev-client -> production/database 80", DROPPED),
                c(E04, "ip:8.8.8.8 -> production/database 5432", DROPPED),
                c(E04, "production/prod-client -> production/database 3306", DROPPED),
                c(E04, "production/prod-client -> production/database 5432/UDP", DROPPED),
                c(E04, "development/dev-client -> production/backend 8080", FORWARDED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void denyDevToProdDb(VerdictCase c) {
        check(c);
    }

    // ---- 05: L7 Kafka --------------------------------------------------------------------------------

    static final Manifests E05 = Manifests.examples("05-kafka-topic-control.yaml");

    static Stream<VerdictCase> kafkaTopicControl() {
        return Stream.of(
                c(E05, "messaging/producer -> messaging/kafka-broker 9092 kafka produce payments", FORWARDED),
                c(E05, "messaging/producer -> messaging/kafka-broker 9092 kafka produce orders", DROPPED),
                c(E05, "messaging/producer -> messaging/kafka-broker 9092 kafka fetch payments", DROPPED),
                c(E05, "messaging/consumer -> messaging/kafka-broker 9092 kafka fetch payments", FORWARDED),
                c(E05, "messaging/consumer -> messaging/kafka-broker 9092 kafka fetch notifications", FORWARDED),
                c(E05, "messaging/consumer -> messaging/kafka-broker 9092 kafka fetch audit", DROPPED),
                c(E05, "messaging/consumer -> messaging/kafka-broker 9092 kafka produce payments", DROPPED),
                c(E05, "messaging/stranger -> messaging/kafka-broker 9092 kafka produce payments", DROPPED),
                c(E05, "messaging/producer -> messaging/kafka-broker 9093", DROPPED),
                c(E05, "messaging/producer -> messaging/kafka-broker 9092", REDIRECTED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void kafkaTopicControl(VerdictCase c) {
        check(c);
    }

    // ---- 06: clusterwide baseline --------------------------------------------------------------------

    static final Manifests E06 = Manifests.examples("06-baseline-clusterwide.yaml");

    static Stream<VerdictCase> baselineClusterwide() {
        return Stream.of(
                c(E06, "production/frontend -> ip:8.8.8.8 443", DROPPED),
                c(E06, "messaging/producer -> ip:2001:4860:4860::8888 443", DROPPED),
                c(E06, "production/frontend -> ip:10.96.0.1 443", FORWARDED),
                c(E06, "ops/ops-tool -> ip:10.96.0.1 443", FORWARDED),
                c(E06, "production/frontend -> ip:10.96.0.1 80", DROPPED),
                // every pod is selected for egress, so everything not allowed is dropped, pods included
                c(E06, "production/frontend -> production/backend 8080", DROPPED),
                c(E06, "production/frontend -> kube-system/kube-dns 53/UDP", DROPPED),
                c(E06, "production/frontend -> ip:10.250.0.1 22", DROPPED),
                c(E06, "ip:8.8.8.8 -> production/frontend 80", FORWARDED)); // no ingress policy
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void baselineClusterwide(VerdictCase c) {
        check(c);
    }

    // ---- 07: Kubernetes NetworkPolicy ----------------------------------------------------------------

    static final Manifests E07 = Manifests.examples("07-k8s-networkpolicy.yaml");

    static Stream<VerdictCase> k8sNetworkPolicy() {
        return Stream.of(
                c(E07, "production/frontend -> production/backend 8080", FORWARDED),
                c(E07, "ops/ops-tool -> production/backend 8080", FORWARDED), // namespace labelled team=ops
                c(E07, "production/prod-client -> production/backend 8080", DROPPED),
                c(E07, "development/dev-client -> production/backend 8080", DROPPED),
                c(E07, "production/frontend -> production/backend 9090", DROPPED),
                c(E07, "ip:10.2.3.4 -> production/backend 9090", FORWARDED),
                c(E07, "ip:10.2.3.4 -> production/backend 9095", FORWARDED),
                c(E07, "ip:10.2.3.4 -> production/backend 9096", DROPPED),
                c(E07, "ip:10.1.2.3 -> production/backend 9090", DROPPED), // except 10.1.0.0/16
                c(E07, "ip:192.168.1.1 -> production/backend 9090", DROPPED),
                // 10.244.1.41 is inside 10.0.0.0/8 but is a pod: ipBlock never selects pods in Cilium
                c(E07, "production/prod-client -> production/backend 9090", DROPPED),
                c(E07, "production/backend -> kube-system/kube-dns 53/UDP", FORWARDED),
                c(E07, "production/backend -> kube-system/kube-dns 53/TCP", FORWARDED),
                c(E07, "production/backend -> ip:8.8.8.8 53/UDP", FORWARDED),
                c(E07, "production/backend -> production/database 5432", DROPPED),
                c(E07, "production/backend -> ip:8.8.8.8 443", DROPPED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void k8sNetworkPolicy(VerdictCase c) {
        check(c);
    }
}
