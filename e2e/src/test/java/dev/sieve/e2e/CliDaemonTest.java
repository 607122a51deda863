package dev.sieve.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/sieve} through its native client and the warm CLI daemon: the same exit codes, stdout and stderr as the
 * plain JVM; the client's environment and working directory honoured; Ctrl-C and a closed pipe cancel a --follow's
 * gRPC stream on the server; a daemon of another build is replaced; an idle one leaves; a socket folder of another
 * user (or open to others) is refused. Each test has its own socket folder and stops its daemon, also on failure.
 */
class CliDaemonTest {

    static final Path REPO = HubbleCliCompatibilityTest.REPO;
    static final Path SIEVE = REPO.resolve("bin/sieve");

    @TempDir
    Path dir;
    Path socketDir;

    /** A gRPC Observer whose GetFlows streams a flow every 50 ms until the client cancels. */
    static Server server;
    static String address;
    static final AtomicInteger cancelled = new AtomicInteger(), started = new AtomicInteger();
    static final ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();

    @BeforeAll
    static void startServer() throws IOException {
        assumeTrue(Files.isExecutable(REPO.resolve("cli/target/sieve-client")), "needs the native client (mvn package of cli)");
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(new ObserverGrpc.ObserverImplBase() {
            @Override
            public void getFlows(GetFlowsRequest request, StreamObserver<GetFlowsResponse> responses) {
                var call = (ServerCallStreamObserver<GetFlowsResponse>) responses;
                if (!request.getFollow()) { // one flow and the end
                    call.onNext(flow(1_700_000_000L));
                    call.onCompleted();
                    return;
                }
                started.incrementAndGet();
                AtomicInteger n = new AtomicInteger();
                var task = ticks.scheduleAtFixedRate(() -> {
                    synchronized (call) {
                        if (call.isCancelled()) return;
                        call.onNext(flow(1_700_000_000L + n.incrementAndGet()));
                    }
                }, 0, 50, TimeUnit.MILLISECONDS);
                call.setOnCancelHandler(() -> {
                    task.cancel(false);
                    cancelled.incrementAndGet();
                });
            }
        }).build().start();
        address = "127.0.0.1:" + server.getPort();
    }

    static GetFlowsResponse flow(long seconds) {
        var time = com.google.protobuf.Timestamp.newBuilder().setSeconds(seconds);
        return GetFlowsResponse.newBuilder().setNodeName("node-1").setTime(time)
                .setFlow(Flow.newBuilder().setVerdict(Verdict.FORWARDED).setNodeName("node-1").setTime(time)).build();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        ticks.shutdownNow();
        if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @AfterEach
    void stopDaemon() throws Exception {
        if (socketDir == null || !Files.isDirectory(socketDir)) return;
        Long pid = daemonPid();
        run(Map.of("SIEVE_CLI_DAEMON", "0"), "daemon", "stop");
        if (pid != null) ProcessHandle.of(pid).ifPresent(p -> {
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        });
    }

    record Result(int code, String out, String err) {}

    Result run(Map<String, String> env, String... args) throws Exception {
        return runIn(REPO, env, args);
    }

    Result runIn(Path cwd, Map<String, String> env, String... args) throws Exception {
        if (socketDir == null) socketDir = dir.resolve("daemon");
        List<String> cmd = new ArrayList<>(List.of(SIEVE.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".txt"), err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("SIEVE_CLI_SOCKET_DIR", socketDir.toString());
        pb.environment().put("SIEVE_CLI_DAEMON_IDLE_SECONDS", "120");
        pb.environment().remove("SIEVE_CLI_DAEMON");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    Long daemonPid() throws Exception {
        Result r = run(Map.of(), "daemon", "status");
        Matcher m = Pattern.compile("pid (\\d+),").matcher(r.out());
        return r.code() == 0 && m.find() ? Long.parseLong(m.group(1)) : null;
    }

    /** Waits until a daemon serves the socket folder; its pid. */
    long awaitDaemon() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(socketDir.resolve("sock"))) {
                Long pid = daemonPid();
                if (pid != null) return pid;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no CLI daemon came up in " + socketDir);
    }

    /** The same command through the daemon and in a plain JVM: the same exit code, stdout and stderr. */
    Result bothWays(Path cwd, Map<String, String> env, String... args) throws Exception {
        Result viaDaemon = runIn(cwd, env, args);
        var jvmEnv = new java.util.HashMap<>(env);
        jvmEnv.put("SIEVE_CLI_DAEMON", "0");
        Result jvm = runIn(cwd, jvmEnv, args);
        assertThat(viaDaemon).as("sieve %s through the daemon vs a plain JVM", List.of(args)).isEqualTo(jvm);
        return viaDaemon;
    }

    @Test
    void exitCodesStderrEnvironmentAndWorkingDirectoryAsInAPlainJvm() throws Exception {
        Result first = run(Map.of(), "policy", "validate", "examples"); // no daemon yet: a JVM runs it, a daemon starts
        assertThat(first.code()).as("%s", first).isZero();
        long pid = awaitDaemon();
        Result status = run(Map.of(), "daemon", "status");
        assertThat(status.out()).contains("pid " + pid).contains("0 running");

        assertThat(bothWays(REPO, Map.of(), "policy", "validate", "examples").out()).startsWith("valid: ");
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: bad, namespace: prod}
                spec:
                  endpointSelector: {}
                  ingress:
                  - toPorts: [{ports: [{port: "70000"}]}]
                """);
        // a relative path: read from the client's working directory, not the daemon's
        Result invalid = bothWays(dir, Map.of(), "policy", "validate", "bad.yaml");
        assertThat(invalid.code()).isEqualTo(2);
        assertThat(invalid.err()).contains("bad.yaml").contains("out of range");
        Result missing = bothWays(dir, Map.of(), "policy", "validate", "no-such-file.yaml");
        assertThat(missing.code()).isEqualTo(2);
        Result usage = bothWays(REPO, Map.of(), "observe", "--no-such-flag");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("--no-such-flag");
        Result unreachable = bothWays(REPO, Map.of(), "status", "--server", "127.0.0.1:1");
        assertThat(unreachable.code()).isEqualTo(2);
        assertThat(unreachable.err()).contains("cannot reach");
        // the client's environment: an option's env default (SIEVE_TLS_*) is the client's, not the daemon's
        Result env = bothWays(REPO, Map.of("SIEVE_TLS_CLIENT_CERT_FILE", dir.resolve("c.pem").toString()), "status", "--server", address);
        assertThat(env.code()).isEqualTo(2);
        assertThat(env.err()).contains("--tls-client-cert-file and --tls-client-key-file go together");
        Result plain = bothWays(REPO, Map.of("TZ", "Asia/Tokyo"), "observe", "--server", address, "--last", "1", "-o", "compact");
        assertThat(plain.code()).isZero();
        assertThat(daemonPid()).as("the daemon served them all").isEqualTo(pid);
        assertThat(run(Map.of(), "daemon", "status").out()).containsPattern("[1-9][0-9]* runs served");
    }

    @Test
    void ctrlCAndAClosedPipeCancelAFollowOnTheServer() throws Exception {
        run(Map.of(), "--version");
        long pid = awaitDaemon();
        // Ctrl-C
        int before = cancelled.get(), startedBefore = started.get();
        if (socketDir == null) socketDir = dir.resolve("daemon");
        ProcessBuilder pb = new ProcessBuilder(SIEVE.toString(), "observe", "--server", address, "--follow")
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("SIEVE_CLI_SOCKET_DIR", socketDir.toString());
        pb.environment().remove("SIEVE_CLI_DAEMON");
        Process follow = pb.start();
        var firstLine = new java.io.BufferedReader(new java.io.InputStreamReader(follow.getInputStream())).readLine();
        assertThat(firstLine).as("a flow printed by the follow").contains("FORWARDED");
        assertThat(started.get()).isGreaterThan(startedBefore);
        new ProcessBuilder("kill", "-INT", Long.toString(follow.pid())).start().waitFor();
        assertThat(follow.waitFor(10, TimeUnit.SECONDS)).as("the client ended on Ctrl-C").isTrue();
        assertThat(follow.exitValue()).isEqualTo(130); // killed by SIGINT, as a shell reports it
        awaitCancelled(before + 1);

        // `| head -2`: the pipe closes, the client hangs up, the daemon cancels the stream
        before = cancelled.get();
        ProcessBuilder head = new ProcessBuilder("bash", "-c", SIEVE + " observe --server " + address + " --follow | head -2");
        head.environment().put("SIEVE_CLI_SOCKET_DIR", socketDir.toString());
        head.environment().remove("SIEVE_CLI_DAEMON");
        Process h = head.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String text = new String(h.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(h.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(text.lines().count()).isEqualTo(2);
        awaitCancelled(before + 1);

        // SIGTERM too; and the daemon, still the same, has no run left
        before = cancelled.get();
        follow = pb.start();
        new java.io.BufferedReader(new java.io.InputStreamReader(follow.getInputStream())).readLine();
        follow.destroy();
        assertThat(follow.waitFor(10, TimeUnit.SECONDS)).isTrue();
        awaitCancelled(before + 1);
        assertThat(daemonPid()).isEqualTo(pid);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String status;
        do {
            status = run(Map.of(), "daemon", "status").out();
        } while (!status.contains(" 0 running") && System.nanoTime() < deadline);
        assertThat(status).contains(" 0 running");
    }

    static void awaitCancelled(int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (cancelled.get() < atLeast && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(cancelled.get()).as("GetFlows calls the server saw cancelled").isGreaterThanOrEqualTo(atLeast);
    }

    @Test
    void aDaemonOfAnotherBuildIsReplaced() throws Exception {
        socketDir = dir.resolve("daemon");
        ProcessBuilder pb = new ProcessBuilder(SIEVE.toString(), "daemon", "run", "--build-id", "some-older-build")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stale.log").toFile());
        pb.environment().put("SIEVE_CLI_SOCKET_DIR", socketDir.toString());
        pb.environment().put("SIEVE_CLI_DAEMON", "0");
        Process stale = pb.start();
        try {
            long pid = awaitDaemon();
            assertThat(pid).isEqualTo(stale.pid());
            assertThat(run(Map.of(), "daemon", "status").out()).contains("build some-older-build");
            Result r = run(Map.of(), "policy", "validate", "examples");
            assertThat(r.code()).as("%s", r).isZero();
            assertThat(r.out()).startsWith("valid: ");
            assertThat(stale.waitFor(20, TimeUnit.SECONDS)).as("the stale daemon left").isTrue();
            long successor = awaitDaemon();
            assertThat(successor).isNotEqualTo(pid);
            assertThat(run(Map.of(), "daemon", "status").out()).doesNotContain("some-older-build");
        } finally {
            stale.destroyForcibly();
        }
    }

    @Test
    void anIdleDaemonLeaves() throws Exception {
        run(Map.of("SIEVE_CLI_DAEMON_IDLE_SECONDS", "1"), "--version");
        long pid = awaitDaemon(); // it came up with an idle time of 1 s
        var handle = ProcessHandle.of(pid);
        if (handle.isPresent()) handle.get().onExit().get(30, TimeUnit.SECONDS);
        assertThat(Files.exists(socketDir.resolve("sock"))).isFalse();
    }

    @Test
    void aSocketFolderOfAnotherUserOrOpenToOthersIsRefused() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to hand a folder to another user");
        socketDir = dir.resolve("foreign");
        Files.createDirectory(socketDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        new ProcessBuilder("chown", "65534", socketDir.toString()).start().waitFor();
        Result r = run(Map.of(), "policy", "validate", "examples");
        assertThat(r.code()).as("the command still runs, in a JVM").isZero();
        assertThat(r.err()).contains("owned by uid 65534").contains("refusing");
        Thread.sleep(1500);
        try (var files = Files.list(socketDir)) {
            assertThat(files.toList()).as("no daemon, no socket").isEmpty();
        }
        // the daemon refuses it too
        Result d = run(Map.of("SIEVE_CLI_DAEMON", "0"), "daemon", "run", "--build-id", "x");
        assertThat(d.code()).isEqualTo(2);
        assertThat(d.err()).contains("owned by uid 65534");

        socketDir = dir.resolve("open");
        Files.createDirectory(socketDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(socketDir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Result open = run(Map.of(), "policy", "validate", "examples");
        assertThat(open.code()).isZero();
        assertThat(open.err()).contains("open to other users").contains("refusing");
        try (var files = Files.list(socketDir)) {
            assertThat(files.toList()).isEmpty();
        }
    }
}
