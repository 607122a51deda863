package dev.sieve.proxy.dns;

import dev.sieve.api.flow.DNS;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.l7.DnsNames;
import dev.sieve.policy.l7.DnsQuery;
import dev.sieve.policy.net.Cidr;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.proxy.ConnectionPolicies;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.L7EventSink;
import dev.sieve.proxy.ProxyProtocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The DNS proxy, independent of how the query arrived: judges every question of a query with the connection's
 * policy ({@link ConnectionPolicy#judge} with a {@link DnsQuery}, the code {@code sieve policy trace --dns-query}
 * runs), forwards an allowed query unchanged to the server the pod asked, learns from the answer
 * ({@link FqdnLearner}) and only then relays it unchanged; a query with any question the policy does not allow
 * gets the configured reject code (REFUSED by default). Every query and answer is reported as a Hubble DNS
 * {@link L7Event}.
 *
 * <p>UDP: the node proxy calls {@link #onDatagram} per received datagram. TCP: {@link #tcp()} is the
 * {@link ProxyProtocol} for redirected DNS-over-TCP connections. Never throws into its caller: a message it
 * cannot read gets FORMERR (a query with a readable header) or is dropped.
 */
public final class DnsProxy {

    private static final Logger LOG = Logger.getLogger(DnsProxy.class.getName());
    public static final String OBSERVATION_SOURCE = "proxy";

    private final ConnectionPolicies policies;
    private final FqdnLearner learner;
    private final L7EventSink events;
    private final DnsUpstream upstream;
    private final DnsProxyConfig config;
    private final DnsStats stats = new DnsStats();

    public DnsProxy(ConnectionPolicies policies, FqdnLearner learner, L7EventSink events, DnsUpstream upstream, DnsProxyConfig config) {
        this.policies = policies;
        this.learner = learner;
        this.events = events;
        this.upstream = upstream;
        this.config = config;
    }

    public DnsStats stats() {
        return stats;
    }

    /**
     * One UDP query the datapath redirected: {@code query} is the datagram's payload, {@code client} who sent it,
     * {@code server} its original destination (the DNS server the pod asked), {@code ingress} whether the
     * destination's ingress policy redirected it (else the client's egress), {@code proxyPort} the listener's
     * port. {@code reply} must send its argument to {@code client} from {@code server}'s address; it is called
     * at most once, on any thread.
     */
    public void onDatagram(byte[] query, InetSocketAddress client, InetSocketAddress server, boolean ingress, int proxyPort,
                           Consumer<byte[]> reply) {
        onDatagram(query, client, server, ingress, proxyPort, reply, upstream);
    }

    /** As above, forwarding an allowed query through {@code via} instead of the proxy's own upstream. */
    public void onDatagram(byte[] query, InetSocketAddress client, InetSocketAddress server, boolean ingress, int proxyPort,
                           Consumer<byte[]> reply, DnsUpstream via) {
        ConnectionPolicy policy;
        try {
            policy = policies.lookup(client.getAddress(), server.getAddress(), 17, server.getPort());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "DNS query from " + client + ": policy lookup failed", e); // the client times out and retries
            return;
        }
        onDatagram(query, client, server, ingress, proxyPort, policy, reply, via);
    }

    /** As above, with the connection's policy already looked up (the node proxy's listener did). */
    public void onDatagram(byte[] query, InetSocketAddress client, InetSocketAddress server, boolean ingress, int proxyPort,
                           ConnectionPolicy policy, Consumer<byte[]> reply, DnsUpstream via) {
        onDatagram(query, client, server, ingress, proxyPort, policy, reply, via, false);
    }

    /**
     * As above; {@code viaTimesOut}: {@code via}'s answers fail by themselves after {@link DnsProxyConfig#upstreamTimeout}
     * (the node's UDP path sweeps its waiting queries on its event loop, cheaper than a timer per query).
     */
    public void onDatagram(byte[] query, InetSocketAddress client, InetSocketAddress server, boolean ingress, int proxyPort,
                           ConnectionPolicy policy, Consumer<byte[]> reply, DnsUpstream via, boolean viaTimesOut) {
        try {
            handle(new Exchange(query, client, server, 17, ingress, proxyPort, policy), reply,
                    q -> via.exchange(client, server, q), viaTimesOut);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "DNS query from " + client + " failed", e); // the client times out and retries
        }
    }

    /** DNS over TCP: the protocol of a redirected connection (length-prefixed messages, RFC 7766). */
    public ProxyProtocol tcp() {
        return (channel, connection) -> DnsTcpSession.install(this, channel, connection);
    }

    /** One query and where it came from. */
    record Exchange(byte[] query, InetSocketAddress client, InetSocketAddress server, int l4Protocol, boolean ingress,
                    int proxyPort, ConnectionPolicy policy) {}

    public DnsProxyConfig config() {
        return config;
    }

    /** Handles one query: {@code forward} sends the unchanged query to the server and returns the answer. */
    void handle(Exchange ex, Consumer<byte[]> reply, java.util.function.Function<byte[], CompletableFuture<byte[]>> forward) {
        handle(ex, reply, forward, false);
    }

    /** As above; {@code forwardTimesOut}: the forward's answer fails by itself after the upstream timeout. */
    void handle(Exchange ex, Consumer<byte[]> reply, java.util.function.Function<byte[], CompletableFuture<byte[]>> forward,
                boolean forwardTimesOut) {
        long start = System.nanoTime();
        long epoch = epochNanos();
        byte[] q = ex.query;
        DnsMessage msg;
        try {
            msg = DnsWire.parse(q);
        } catch (DnsWire.Malformed e) {
            stats.malformed.increment();
            if (q.length >= DnsWire.HEADER && (q[2] & 0x80) == 0) reply.accept(DnsWire.reply(q, 0, q.length, null, DnsMessage.RCODE_FORMERR));
            report(ex, epoch, Verdict.ERROR, List.of(), List.of(), request("", List.of()), "DNS Query malformed: " + e.getMessage(), false);
            return;
        }
        if (msg.isResponse()) { // not a query: nothing to answer
            stats.malformed.increment();
            return;
        }
        List<String> qtypes = new ArrayList<>();
        for (DnsMessage.Question qu : msg.questions()) qtypes.add(DnsWire.typeName(qu.type()));
        String name = msg.questions().isEmpty() ? "" : msg.questions().getFirst().name();
        if (msg.questions().isEmpty() || msg.opcode() != 0) {
            stats.malformed.increment();
            reply.accept(DnsWire.reply(q, 0, q.length, msg, msg.opcode() != 0 ? 4 : DnsMessage.RCODE_FORMERR)); // NOTIMP
            report(ex, epoch, Verdict.ERROR, List.of(), List.of(), request(fqdn(name), qtypes), "DNS Query " + fqdn(name) + " " + String.join(",", qtypes), false);
            return;
        }
        ConnectionPolicy policy = ex.policy;
        if (policy == null || policy.dropped()) { // L3/L4 policy does not let it through at all
            stats.refused.increment();
            report(ex, epoch, Verdict.DROPPED, List.of(), List.of(), request(fqdn(name), qtypes), summaryQuery(name, qtypes), false);
            return;
        }
        // every question must be allowed; the first one that is not decides
        List<RuleInfo> egress = new ArrayList<>(), ingress = new ArrayList<>();
        ConnectionPolicy.L7Verdict denied = null;
        boolean audit = false;
        for (DnsMessage.Question qu : msg.questions()) {
            ConnectionPolicy.L7Verdict v = policy.judge(new DnsQuery(qu.name()));
            if (!v.allowed()) {
                denied = v;
                break;
            }
            if (v.verdict() == dev.sieve.policy.trace.Verdict.AUDIT) {
                audit = true;
                if (egress.isEmpty()) egress.addAll(v.egressRules());
                if (ingress.isEmpty()) ingress.addAll(v.ingressRules());
            }
            for (RuleInfo r : v.egressRules()) if (!egress.contains(r)) egress.add(r);
            for (RuleInfo r : v.ingressRules()) if (!ingress.contains(r)) ingress.add(r);
        }
        String summary = summaryQuery(name, qtypes);
        if (denied != null) {
            stats.refused.increment();
            report(ex, epoch, Verdict.DROPPED, denied.egressRules(), denied.ingressRules(), request(fqdn(name), qtypes), summary, false);
            reply.accept(DnsWire.reply(q, 0, q.length, msg, config.rejectRcode()));
            return;
        }
        stats.forwarded.increment();
        Verdict verdict = audit ? Verdict.AUDIT : Verdict.FORWARDED;
        report(ex, epoch, verdict, egress, ingress, request(fqdn(name), qtypes), summary, false);
        CompletableFuture<byte[]> answer;
        try {
            answer = forward.apply(q);
            if (!forwardTimesOut) answer = answer.orTimeout(config.upstreamTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((bytes, err) -> {
            if (err != null) {
                stats.upstreamErrors.increment();
                reply.accept(DnsWire.reply(q, 0, q.length, msg, DnsMessage.RCODE_SERVFAIL));
                return;
            }
            onAnswer(ex, msg, qtypes, bytes, start, verdict, egress, ingress, reply);
        });
    }

    private void onAnswer(Exchange ex, DnsMessage query, List<String> qtypes, byte[] bytes, long start, Verdict verdict,
                          List<RuleInfo> egress, List<RuleInfo> ingress, Consumer<byte[]> reply) {
        long epoch = epochNanos();
        DnsMessage ans;
        try {
            ans = DnsWire.parse(bytes);
            if (ans.id() != query.id() || !ans.isResponse() || !sameQuestions(query, ans)) throw new DnsWire.Malformed("answer does not match the query");
        } catch (DnsWire.Malformed e) {
            // fail closed: what the proxy cannot read, it cannot learn from, and the pod would not reach its addresses
            stats.upstreamErrors.increment();
            reply.accept(DnsWire.reply(ex.query, 0, ex.query.length, query, DnsMessage.RCODE_SERVFAIL));
            LOG.fine(() -> "bad answer from " + ex.server + ": " + e.getMessage());
            return;
        }
        String qname = query.questions().getFirst().name();
        Chain chain = chain(qname, ans);
        Set<String> rrtypes = new LinkedHashSet<>();
        for (DnsMessage.Answer a : ans.answers()) rrtypes.add(DnsWire.typeName(a.type()));
        DNS.Builder dns = DNS.newBuilder().setQuery(fqdn(qname)).setObservationSource(OBSERVATION_SOURCE)
                .setRcode(ans.rcode()).addAllQtypes(qtypes).addAllRrtypes(rrtypes).setTtl((int) Math.min(chain.ttl, Integer.MAX_VALUE));
        List<String> ipTexts = new ArrayList<>(chain.ips.size());
        for (InetAddress ip : chain.ips) ipTexts.add(Cidr.formatAddress(ip.getAddress())); // as Hubble prints them (fd00::1)
        dns.addAllIps(ipTexts);
        for (String c : chain.cnames) dns.addCnames(fqdn(c));
        long latency = System.nanoTime() - start;
        Layer7 l7 = Layer7.newBuilder().setType(L7FlowType.RESPONSE).setLatencyNs(latency).setDns(dns).build();
        String summary = summaryAnswer(qname, qtypes, ans.rcode(), chain, ipTexts);
        Runnable release = () -> {
            reply.accept(bytes);
            report(ex, epoch, verdict, egress, ingress, l7, summary, true);
        };
        if (ans.rcode() != DnsMessage.RCODE_NOERROR || chain.ips.isEmpty()) {
            release.run();
            return;
        }
        List<String> names = new ArrayList<>();
        names.add(DnsNames.normalize(qname));
        for (String c : chain.cnames) names.add(DnsNames.normalize(c));
        long t0 = System.nanoTime();
        CompletableFuture<Void> learned;
        try {
            learned = learner.learn(ex.client.getAddress(), names, chain.ips, chain.ttl);
        } catch (RuntimeException e) {
            learned = CompletableFuture.failedFuture(e);
        }
        learned.whenComplete((v, err) -> {
            stats.learnNanos(System.nanoTime() - t0);
            if (err != null) {
                stats.learnErrors.increment();
                LOG.log(Level.WARNING, "learning " + names + " for " + ex.client.getAddress().getHostAddress() + " failed; answering SERVFAIL", err);
                reply.accept(DnsWire.reply(ex.query, 0, ex.query.length, query, DnsMessage.RCODE_SERVFAIL));
                return;
            }
            release.run();
        });
    }

    private static boolean sameQuestions(DnsMessage q, DnsMessage a) {
        if (a.questions().size() != q.questions().size()) return false;
        for (int i = 0; i < q.questions().size(); i++) {
            DnsMessage.Question x = q.questions().get(i), y = a.questions().get(i);
            if (x.type() != y.type() || !x.name().equalsIgnoreCase(y.name())) return false;
        }
        return true;
    }

    /** The CNAME chain from the queried name and the addresses at its end, with the smallest TTL on the way. */
    record Chain(List<String> cnames, List<InetAddress> ips, long ttl) {}

    static Chain chain(String qname, DnsMessage ans) {
        List<DnsMessage.Answer> answers = ans.answers();
        boolean anyCname = false;
        for (int i = 0; i < answers.size(); i++) anyCname |= answers.get(i).type() == DnsMessage.TYPE_CNAME;
        if (!anyCname) { // the common answer: addresses of the queried name only, no set of names to follow
            List<InetAddress> ips = new ArrayList<>(answers.size());
            long ttl = Long.MAX_VALUE;
            for (int i = 0; i < answers.size(); i++) {
                DnsMessage.Answer a = answers.get(i);
                if (a.address() != null && a.name().equalsIgnoreCase(qname) && !ips.contains(a.address())) {
                    ips.add(a.address());
                    ttl = Math.min(ttl, a.ttl());
                }
            }
            return new Chain(List.of(), ips, ttl == Long.MAX_VALUE ? 0 : ttl);
        }
        Set<String> names = new LinkedHashSet<>();
        names.add(qname.toLowerCase(java.util.Locale.ROOT));
        List<String> cnames = new ArrayList<>();
        long ttl = Long.MAX_VALUE;
        boolean grew = true;
        // records may come in any order; a chain is at most as long as the answer section
        for (int round = 0; grew && round <= answers.size(); round++) {
            grew = false;
            for (DnsMessage.Answer a : answers) {
                if (a.type() != DnsMessage.TYPE_CNAME || !names.contains(a.name().toLowerCase(java.util.Locale.ROOT))) continue;
                String t = a.target().toLowerCase(java.util.Locale.ROOT);
                if (names.add(t)) {
                    cnames.add(a.target());
                    ttl = Math.min(ttl, a.ttl());
                    grew = true;
                }
            }
        }
        Set<InetAddress> ips = new LinkedHashSet<>();
        for (DnsMessage.Answer a : answers) {
            if (a.address() != null && names.contains(a.name().toLowerCase(java.util.Locale.ROOT))) {
                ips.add(a.address());
                ttl = Math.min(ttl, a.ttl());
            }
        }
        return new Chain(cnames, new ArrayList<>(ips), ttl == Long.MAX_VALUE ? 0 : ttl);
    }

    private void report(Exchange ex, long epoch, Verdict verdict, List<RuleInfo> egress, List<RuleInfo> ingress, Object l7,
                        String summary, boolean response) {
        Layer7 layer7 = l7 instanceof Layer7 l ? l : Layer7.newBuilder().setType(L7FlowType.REQUEST).setDns((DNS) l7).build();
        try {
            events.accept(new L7Event(epoch, response ? ex.server : ex.client, response ? ex.client : ex.server, ex.l4Protocol,
                    ex.ingress, verdict, egress, ingress, layer7, summary, ex.proxyPort));
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "event sink failed", e);
        }
    }

    private static DNS request(String query, List<String> qtypes) {
        return DNS.newBuilder().setQuery(query).setObservationSource(OBSERVATION_SOURCE).addAllQtypes(qtypes).build();
    }

    /** Hubble writes names with the trailing dot, as they come from the wire. */
    static String fqdn(String name) {
        return name.endsWith(".") ? name : name + ".";
    }

    /** Hubble's request summary: {@code DNS Query example.com. A}. */
    static String summaryQuery(String name, List<String> qtypes) {
        StringBuilder sb = new StringBuilder(32 + name.length()).append("DNS Query ");
        appendFqdn(sb, name).append(' ');
        return appendJoined(sb, qtypes).toString();
    }

    /** Hubble's answer summary: {@code DNS Answer "1.2.3.4" TTL: 30 (Proxy example.com. A)}, or the rcode's name. */
    static String summaryAnswer(String name, List<String> qtypes, int rcode, Chain chain) {
        return summaryAnswer(name, qtypes, rcode, chain, null);
    }

    /** As above; {@code ips}: the chain's addresses already formatted (or null). */
    static String summaryAnswer(String name, List<String> qtypes, int rcode, Chain chain, List<String> ips) {
        StringBuilder sb = new StringBuilder(64 + name.length()).append("DNS Answer ");
        if (rcode != DnsMessage.RCODE_NOERROR) {
            sb.append("RCode: ").append(DnsWire.rcodeName(rcode));
        } else {
            boolean any = false;
            if (!chain.ips.isEmpty()) {
                sb.append('"');
                for (int i = 0; i < chain.ips.size(); i++) {
                    if (i > 0) sb.append(',');
                    sb.append(ips != null ? ips.get(i) : Cidr.formatAddress(chain.ips.get(i).getAddress()));
                }
                sb.append('"');
                any = true;
            }
            if (!chain.cnames.isEmpty()) {
                if (any) sb.append(' ');
                sb.append("CNAMEs: \"");
                for (int i = 0; i < chain.cnames.size(); i++) {
                    if (i > 0) sb.append(',');
                    appendFqdn(sb, chain.cnames.get(i));
                }
                sb.append('"');
            }
        }
        sb.append(" TTL: ").append(chain.ttl).append(" (Proxy ");
        appendFqdn(sb, name).append(' ');
        return appendJoined(sb, qtypes).append(')').toString();
    }

    private static StringBuilder appendFqdn(StringBuilder sb, String name) {
        sb.append(name);
        if (!name.endsWith(".")) sb.append('.');
        return sb;
    }

    private static StringBuilder appendJoined(StringBuilder sb, List<String> parts) {
        for (int i = 0; i < parts.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(parts.get(i));
        }
        return sb;
    }

    private static long epochNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
