package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Verdict;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The seed's L7 examples enforced per request through the whole node: the real agent with its node proxy, the
 * datapath's transparent redirection, a real HTTP server, curl, dnsmasq and dig in network namespaces. 02: the
 * api-consumer's GET and header-carrying POST pass, DELETE and the header-less POST are answered 403 by the
 * proxy, the prod-client is dropped at L3/L4, the server sees the client's own address, and every request is a
 * flow with its verdict and policy. 03: allowed names resolve and the connection right after to the answer's
 * address passes (the proxy taught the datapath before releasing the answer), other names are REFUSED, and an
 * address no answer named stays dropped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SeedL7EndToEndTest {

    static final String API = "10.244.1.30", CONSUMER = "10.244.1.31", DNS = "10.244.4.10";
    static final String WORLD_NAMED = "198.51.100.1", WORLD_UNNAMED = "198.51.100.2";

    AgentLab node;
    Pod api, consumer, prodClient, uploader, kubeDns, world1, world2;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces");
        node = AgentLab.create("seed-l7");
        Lab lab = node.lab;
        api = lab.addPod("api-server", API, null);
        consumer = lab.addPod("api-consumer", CONSUMER, null);
        prodClient = lab.addPod("prod-client", "10.244.1.41", null);
        uploader = lab.addPod("uploader", "10.244.3.10", null);
        kubeDns = lab.addPod("kube-dns", DNS, null);
        world1 = lab.addExternal("world1", WORLD_NAMED, null);
        world2 = lab.addExternal("world2", WORLD_UNNAMED, null);
        api.start("python3", AgentLab.repo().resolve("scripts/demo/http_server.py").toString(), "80");
        kubeDns.start("dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
                "--listen-address=" + DNS, "--port=53", "--pid-file=", "--user=root", "--local-ttl=30",
                "--host-record=s3.amazonaws.com," + WORLD_NAMED, "--host-record=api.example.com," + WORLD_NAMED,
                "--host-record=evil.example.org," + WORLD_UNNAMED);
        world1.start("nc", "-lk", "-p", "443");
        world2.start("nc", "-lk", "-p", "443");

        node.manifest("examples/cluster/cluster.yaml").manifest("examples/policies/02-api-http-filter.yaml")
                .manifest("examples/policies/03-allow-s3-egress.yaml");
        node.start("--proxy-uplinks", world1.hostInterface() + "," + world2.hostInterface());
        for (int i = 0; i < 100 && !curl(consumer, "GET", "/api/users").stdout().startsWith("200"); i++) Thread.sleep(100);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (node != null) node.close();
    }

    /** curl's status code line, then the body. */
    static ExecResult curl(Pod from, String method, String path, String... headers) {
        List<String> more = new ArrayList<>();
        for (String h : headers) more.addAll(List.of("-H", h));
        if (method.equals("POST")) more.addAll(List.of("-d", "{}"));
        return AgentLab.curl(from, method, "http://" + API + path, more.toArray(String[]::new));
    }

    List<Flow> flows(Predicate<Flow> p) throws InterruptedException {
        return node.flows(p);
    }

    static boolean httpRequest(Flow f, String method, String pathSuffix) {
        return AgentLab.httpRequest(f, method, pathSuffix);
    }

    @Test
    void httpRulesOfThe02ExampleAreEnforcedPerRequest() throws Exception {
        ExecResult get = curl(consumer, "GET", "/api/users");
        assertThat(get.stdout()).startsWith("200\n");
        assertThat(get.stdout()).as("the server sees the client's own address").contains("\"client\": \"" + CONSUMER + "\"");

        ExecResult delete = curl(consumer, "DELETE", "/api/users");
        assertThat(delete.stdout()).isEqualTo("403\nAccess denied");

        // Cilium matches header values exactly: the seed's rule wants the literal value ".*"
        assertThat(curl(consumer, "POST", "/api/submit", "X-App-Token: .*").stdout()).startsWith("200\n");
        assertThat(curl(consumer, "POST", "/api/submit").stdout()).startsWith("403\n");
        assertThat(curl(consumer, "POST", "/api/submit", "X-App-Token: secret").stdout()).startsWith("403\n");

        ExecResult stranger = curl(prodClient, "GET", "/api/users");
        assertThat(stranger.stdout()).as("prod-client is dropped at L3/L4").startsWith("000");

        List<Flow> deletes = flows(f -> httpRequest(f, "DELETE", "/api/users"));
        assertThat(deletes).isNotEmpty();
        Flow d = deletes.getLast();
        assertThat(d.getVerdict()).isEqualTo(Verdict.DROPPED);
        assertThat(d.getSource().getPodName()).isEqualTo("api-consumer");
        assertThat(d.getDestination().getPodName()).isEqualTo("api-server");
        assertThat(d.getIngressDeniedByList()).extracting(p -> p.getName()).contains("api-http-filter");
        Flow g = flows(f -> httpRequest(f, "GET", "/api/users")).getLast();
        assertThat(g.getVerdict()).isEqualTo(Verdict.FORWARDED);
        assertThat(g.getIngressAllowedByList()).extracting(p -> p.getName()).contains("api-http-filter");
        assertThat(flows(f -> f.getType() == FlowType.L7 && f.getL7().getType() == L7FlowType.RESPONSE && f.getL7().hasHttp()
                && f.getL7().getHttp().getCode() == 200)).as("responses with their code").isNotEmpty();
        assertThat(flows(f -> f.getVerdict() == Verdict.DROPPED && f.getSource().getPodName().equals("prod-client")
                && f.getType() == FlowType.L3_L4)).as("prod-client's SYN dropped at L3/L4").isNotEmpty();
    }

    ExecResult dig(String name, String... more) {
        List<String> cmd = new ArrayList<>(List.of("dig", "@" + DNS, "+tries=1", "+time=2", name, "A"));
        cmd.addAll(List.of(more));
        return uploader.exec(Duration.ofSeconds(10), cmd.toArray(String[]::new));
    }

    @Test
    void dnsRulesOfThe03ExampleFilterQueriesAndTeachTheDatapath() throws Exception {
        ExecResult unnamed = uploader.exec(Duration.ofSeconds(5), "nc", "-z", "-w", "2", WORLD_UNNAMED, "443");
        assertThat(unnamed.ok()).as("no answer named it: dropped").isFalse();

        for (String name : List.of("s3.amazonaws.com", "api.example.com")) {
            ExecResult r = dig(name, "+short");
            assertThat(r.stdout().strip()).as(name + " answered").isEqualTo(WORLD_NAMED);
        }
        ExecResult connect = uploader.exec(Duration.ofSeconds(5), "nc", "-z", "-w", "2", WORLD_NAMED, "443");
        assertThat(connect.ok()).as("the first connection after the answer passes").isTrue();

        ExecResult refused = dig("evil.example.org");
        assertThat(refused.stdout()).contains("status: REFUSED");
        assertThat(dig("evil.example.org", "+tcp").stdout()).as("over TCP too").contains("status: REFUSED");
        assertThat(dig("api.example.com", "+tcp", "+short").stdout().strip()).isEqualTo(WORLD_NAMED);

        assertThat(flows(f -> f.getType() == FlowType.L7 && f.getL7().hasDns() && f.getVerdict() == Verdict.DROPPED
                && f.getL7().getDns().getQuery().equals("evil.example.org."))).as("the refused query's flow").isNotEmpty();
        assertThat(flows(f -> f.getType() == FlowType.L7 && f.getL7().hasDns() && f.getL7().getType() == L7FlowType.RESPONSE
                && f.getL7().getDns().getIpsList().contains(WORLD_NAMED))).as("the answer's flow").isNotEmpty();
        assertThat(flows(f -> f.getType() == FlowType.L3_L4 && f.getIP().getDestination().equals(WORLD_NAMED)
                && f.getDestinationNamesList().contains("s3.amazonaws.com"))).as("later L3/L4 flows name it").isNotEmpty();
    }
}
