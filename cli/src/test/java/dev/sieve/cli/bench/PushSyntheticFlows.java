package dev.sieve.cli.bench;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Timestamp;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.TCP;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.observer.relay.RelayPusher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * Pushes N synthetic but realistic flows (50 pods over 5 namespaces, one identity per app, ~10% drops) into a
 * relay over Sieve's ingest API, and waits until the relay has acknowledged every one. Used by
 * scripts/bench-cli.sh: {@code PushSyntheticFlows HOST:PORT N}.
 */
public final class PushSyntheticFlows {

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: PushSyntheticFlows HOST:PORT N");
            System.exit(2);
        }
        String target = args[0];
        long n = Long.parseLong(args[1]);
        Endpoint[] pods = new Endpoint[50];
        String[] ips = new String[pods.length];
        String[] ns = {"shop", "production", "development", "payments", "monitoring"};
        for (int i = 0; i < pods.length; i++) {
            String namespace = ns[i % ns.length];
            String app = "app" + (i % 10);
            pods[i] = Endpoint.newBuilder().setID(100 + i).setIdentity(10_000 + i % 10 * 5 + i % ns.length)
                    .setNamespace(namespace).setPodName(app + "-" + Integer.toHexString(0x5f00 + i))
                    .addLabels("k8s:app=" + app).addLabels("k8s:io.kubernetes.pod.namespace=" + namespace)
                    .setClusterName("default").build();
            ips[i] = "10.0." + (i / 10) + "." + (10 + i);
        }
        long t0 = System.currentTimeMillis() - n; // one flow per millisecond, ending now
        SplittableRandom rnd = new SplittableRandom(42);
        Path spool = Files.createTempDirectory("sieve-bench-spool");
        spool.toFile().deleteOnExit(); // empty once every batch is acknowledged (the run fails otherwise)
        long started = System.nanoTime();
        try (RelayPusher pusher = new RelayPusher(target, "bench-node", spool, 1L << 30,
                new RelayPusher.Settings(2000, Duration.ofMillis(100), 32, Duration.ofSeconds(1)))) {
            for (long k = 0; k < n; k++) {
                int s = rnd.nextInt(pods.length), d = rnd.nextInt(pods.length);
                boolean drop = rnd.nextInt(10) == 0;
                long ms = t0 + k;
                Flow.Builder f = Flow.newBuilder()
                        .setTime(Timestamp.newBuilder().setSeconds(ms / 1000).setNanos((int) (ms % 1000) * 1_000_000))
                        .setUuid(new java.util.UUID(0x5eed_0000_0000_0000L, k).toString())
                        .setVerdict(drop ? Verdict.DROPPED : Verdict.FORWARDED)
                        .setIP(IP.newBuilder().setSource(ips[s]).setDestination(ips[d]).setIpVersion(IPVersion.IPv4))
                        .setL4(Layer4.newBuilder().setTCP(TCP.newBuilder().setSourcePort(30000 + rnd.nextInt(30000))
                                .setDestinationPort(8080 + d % 4).setFlags(TCPFlags.newBuilder().setSYN(true))))
                        .setSource(pods[s]).setDestination(pods[d])
                        .setType(FlowType.L3_L4).setNodeName("bench-node")
                        .setTrafficDirection(TrafficDirection.INGRESS)
                        .setIsReply(BoolValue.of(false));
                if (drop) f.setDropReasonDesc(DropReason.POLICY_DENIED);
                pusher.offer(f.build());
                if ((k & 0xffff) == 0xffff) {
                    while (pusher.pendingBatches() > 64) Thread.sleep(5); // keep the spool in memory
                }
            }
            if (!pusher.flush(Duration.ofMinutes(5))) {
                System.err.println("PushSyntheticFlows: the relay did not acknowledge every batch in time");
                System.exit(1);
            }
            if (pusher.lostFlows() > 0) {
                System.err.println("PushSyntheticFlows: " + pusher.lostFlows() + " flows lost");
                System.exit(1);
            }
        }
        System.err.printf("pushed %,d flows in %.1f s%n", n, (System.nanoTime() - started) / 1e9);
        System.exit(0);
    }
}
