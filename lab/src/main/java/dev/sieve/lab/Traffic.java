package dev.sieve.lab;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Real traffic between lab hosts: an echo server (TCP and UDP on many ports, IPv4 and IPv6), a TCP
 * connect-and-exchange probe, a UDP exchange probe and ping. Probes answer {@link Outcome#PASSED},
 * {@link Outcome#TIMED_OUT} (what a policy drop looks like) or {@link Outcome#REFUSED}.
 */
public final class Traffic {
    public enum Outcome { PASSED, TIMED_OUT, REFUSED }

    private static final String PYTHON = "/usr/bin/python3";
    private static final String ECHO_SERVER = resource("echo_server.py");
    private static final String PROBE = resource("probe.py");

    private Traffic() {}

    /** Starts the echo server on {@code ports} in {@code pod} and waits until it listens. */
    public static BackgroundProcess startEchoServer(Pod pod, int... ports) {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, "-c", ECHO_SERVER));
        for (int p : ports) {
            cmd.add(Integer.toString(p));
        }
        BackgroundProcess server = pod.start(cmd.toArray(String[]::new));
        if (!server.awaitOutput("ready", Duration.ofSeconds(10))) {
            String err = server.stderr();
            server.close();
            throw new LabException("echo server in " + pod.name() + " did not start: " + err.strip());
        }
        return server;
    }

    /** TCP connect to {@code ip:port} from {@code from}, one line exchanged. */
    public static Outcome tcp(Pod from, String ip, int port, Duration timeout) {
        return probe(from, "tcp", ip, port, timeout);
    }

    /** One UDP datagram to {@code ip:port} and its echo. */
    public static Outcome udp(Pod from, String ip, int port, Duration timeout) {
        return probe(from, "udp", ip, port, timeout);
    }

    /** One ICMP/ICMPv6 echo; PASSED when the reply came. */
    public static Outcome ping(Pod from, String ip, Duration timeout) {
        long w = Math.max(1, (timeout.toMillis() + 999) / 1000);
        List<String> cmd = new ArrayList<>(List.of("ping"));
        if (ip.contains(":")) {
            cmd.add("-6");
        }
        cmd.addAll(List.of("-c1", "-n", "-W", Long.toString(w), ip));
        ExecResult r = from.exec(timeout.plusSeconds(5), cmd.toArray(String[]::new));
        return r.ok() ? Outcome.PASSED : Outcome.TIMED_OUT;
    }

    private static Outcome probe(Pod from, String kind, String ip, int port, Duration timeout) {
        String secs = String.format(Locale.ROOT, "%.3f", timeout.toMillis() / 1000.0);
        ExecResult r = from.exec(timeout.plusSeconds(10), PYTHON, "-c", PROBE, kind, ip, Integer.toString(port), secs);
        return switch (r.exitCode()) {
            case 0 -> Outcome.PASSED;
            case 1 -> Outcome.TIMED_OUT;
            case 2 -> Outcome.REFUSED;
            default -> throw new LabException(kind + " probe " + from.name() + " -> " + ip + ":" + port + " failed (exit "
                    + r.exitCode() + "): " + r.stderr().strip());
        };
    }

    private static String resource(String name) {
        try (InputStream in = Traffic.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("lab resource " + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read lab resource " + name, e);
        }
    }
}
