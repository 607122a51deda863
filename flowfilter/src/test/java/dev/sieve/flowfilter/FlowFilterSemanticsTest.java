package dev.sieve.flowfilter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Field semantics taken from Hubble's server where they are easy to get wrong. */
class FlowFilterSemanticsTest {

    @Test
    void nodeNamePatternsAreFqdnPatternsWithAnImpliedCluster() {
        var m = FlowFilters.nodeNameMatcher(List.of("worker-*"));
        assertThat(m.test("worker-1")).isTrue();                 // default/worker-1
        assertThat(m.test("east/worker-1.zone")).isTrue();       // * matches dots, not slashes
        assertThat(m.test("east/node-1")).isFalse();
        assertThat(m.test("")).isFalse();
        var cluster = FlowFilters.nodeNameMatcher(List.of("east/"));
        assertThat(cluster.test("east/anything")).isTrue();
        assertThat(cluster.test("west/anything")).isFalse();
        assertThat(FlowFilters.nodeNameMatcher(List.of("default/n1")).test("n1")).isTrue();
        assertThat(FlowFilters.nodeNameMatcher(List.of("Worker-1")).test("worker-1")).isTrue(); // patterns are lower-cased
        assertThatThrownBy(() -> FlowFilters.nodeNameMatcher(List.of("a/b/c"))).hasMessageContaining("too many slashes");
    }

    @Test
    void podValuesWithoutANamespaceAreInTheDefaultNamespace() {
        assertThat(NamespacedName.parse("source_pod", "web")).isEqualTo(new NamespacedName("default", "web"));
        assertThat(NamespacedName.parse("source_pod", "prod/")).isEqualTo(new NamespacedName("prod", ""));
        assertThat(NamespacedName.parse("source_pod", "/web")).isEqualTo(new NamespacedName("", "web"));
        assertThat(new NamespacedName("prod", "").matches("", "")).isFalse();
        assertThatThrownBy(() -> NamespacedName.parse("source_pod", "/")).isInstanceOf(InvalidFilterException.class);
    }

    @Test
    void theHttpPathIsThePathOfARequestUri() {
        assertThat(FlowFilters.requestPath("http://api:8080/a/b?x=1")).isEqualTo("/a/b");
        assertThat(FlowFilters.requestPath("/a%20b#frag")).isEqualTo("/a b");
        assertThat(FlowFilters.requestPath("http://api")).isEmpty();
        assertThat(FlowFilters.requestPath("relative/path")).isNull();
        assertThat(FlowFilters.requestPath("")).isNull();
    }

    @Test
    void userRegexesRunInLinearTime() {
        // a pattern that backtracks exponentially in java.util.regex: RE2 answers at once
        var f = dev.sieve.api.flow.FlowFilter.newBuilder().addHttpUrl("(a+)+$").build();
        var flow = dev.sieve.api.flow.Flow.newBuilder().setL7(dev.sieve.api.flow.Layer7.newBuilder().setHttp(
                dev.sieve.api.flow.HTTP.newBuilder().setUrl("/" + "a".repeat(5000) + "!"))).build();
        long t0 = System.nanoTime();
        assertThat(FlowFilters.compile(f).test(flow)).isFalse();
        assertThat(System.nanoTime() - t0).isLessThan(2_000_000_000L);
    }

    @Test
    void httpStatusMatchesAsHubblesPrintedCodeDoes() {
        for (String want : List.of("404", "4+", "40+", "1+", "10+", "599")) {
            var p = FlowFilters.compile(dev.sieve.api.flow.FlowFilter.newBuilder().addHttpStatusCode(want).build());
            for (int code = 1; code <= 1200; code++) {
                String printed = String.format("%03d", code);
                boolean hubble = want.endsWith("+") ? printed.startsWith(want.substring(0, want.length() - 1)) : printed.equals(want);
                var flow = dev.sieve.api.flow.Flow.newBuilder().setL7(dev.sieve.api.flow.Layer7.newBuilder().setHttp(
                        dev.sieve.api.flow.HTTP.newBuilder().setCode(code))).build();
                assertThat(p.test(flow)).as(want + " vs " + code).isEqualTo(hubble);
            }
        }
    }
}
