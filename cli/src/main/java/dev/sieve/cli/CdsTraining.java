package dev.sieve.cli;

import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
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
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.GetNodesRequest;
import dev.sieve.api.observer.GetNodesResponse;
import dev.sieve.api.observer.Node;
import dev.sieve.api.relay.NodeState;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.api.observer.ServerStatusRequest;
import dev.sieve.api.observer.ServerStatusResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The class-data-sharing training run ({@code sieve --train-cds [MANIFEST_DIR]}, used by bin/sieve and
 * {@code make build} with -XX:ArchiveClassesAtExit): runs the common commands for real — observe, status and
 * nodes against a throw-away in-process Observer server on a free loopback port, and policy validate / identity
 * list on the manifests given — so that the archive holds the classes those paths load (gRPC, Netty, protobuf,
 * picocli's model, the printers). Output is discarded.
 */
final class CdsTraining {

    private CdsTraining() {}

    /** The command line to train: {@code Main::run}. */
    interface Cli {
        int run(String[] args, PrintWriter out, PrintWriter err);
    }

    static void run(String manifests, Cli cli) throws Exception {
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new ObserverGrpc.ObserverImplBase() {
                    @Override
                    public void getFlows(GetFlowsRequest request, StreamObserver<GetFlowsResponse> out) {
                        long n = request.getNumber() > 0 ? Math.min(request.getNumber(), 50) : 50;
                        for (int i = 0; i < n; i++) out.onNext(GetFlowsResponse.newBuilder().setFlow(flow(i)).setNodeName("train").build());
                        out.onCompleted();
                    }

                    @Override
                    public void serverStatus(ServerStatusRequest request, StreamObserver<ServerStatusResponse> out) {
                        out.onNext(ServerStatusResponse.newBuilder().setNumFlows(50).setMaxFlows(100).setSeenFlows(50).setUptimeNs(1_000_000_000L)
                                .setNumConnectedNodes(UInt32Value.of(1)).setNumUnavailableNodes(UInt32Value.of(0)).build());
                        out.onCompleted();
                    }

                    @Override
                    public void getNodes(GetNodesRequest request, StreamObserver<GetNodesResponse> out) {
                        out.onNext(GetNodesResponse.newBuilder().addNodes(Node.newBuilder().setName("train").setState(NodeState.NODE_CONNECTED)
                                .setUptimeNs(1_000_000_000L).setNumFlows(50).setMaxFlows(100).setSeenFlows(50)).build());
                        out.onCompleted();
                    }
                })
                .build().start();
        try {
            String addr = "127.0.0.1:" + server.getPort();
            String[][] runs = {
                    {"observe", "--server", addr, "--last", "20"},
                    {"observe", "--server", addr, "--last", "20", "-o", "json"},
                    {"observe", "--server", addr, "--verdict", "DROPPED", "--namespace", "shop", "-o", "table"},
                    {"status", "--server", addr},
                    {"nodes", "--server", addr},
                    {"identity", "list", "--server", addr},
                    {"observe", "--no-such-flag"},
            };
            for (String[] args : runs) cli.run(args, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
            if (manifests != null) {
                cli.run(new String[] {"policy", "validate", manifests}, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
                cli.run(new String[] {"identity", "list", "-f", manifests}, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
            }
        } finally {
            server.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
        }
    }

    private static Flow flow(int i) {
        Endpoint a = Endpoint.newBuilder().setID(1).setIdentity(1001).setNamespace("shop").setPodName("frontend-0")
                .addLabels("k8s:app=frontend").addLabels("k8s:io.kubernetes.pod.namespace=shop").build();
        Endpoint b = Endpoint.newBuilder().setID(2).setIdentity(1002).setNamespace("shop").setPodName("backend-0")
                .addLabels("k8s:app=backend").addLabels("k8s:io.kubernetes.pod.namespace=shop").build();
        boolean drop = i % 5 == 0;
        Flow.Builder f = Flow.newBuilder().setTime(Timestamp.newBuilder().setSeconds(1_700_000_000L + i))
                .setUuid("00000000-0000-0000-0000-" + String.format("%012d", i))
                .setVerdict(drop ? Verdict.DROPPED : Verdict.FORWARDED)
                .setIP(IP.newBuilder().setSource("10.0.1.10").setDestination("10.0.1.20").setIpVersion(IPVersion.IPv4))
                .setL4(Layer4.newBuilder().setTCP(TCP.newBuilder().setSourcePort(40000 + i).setDestinationPort(8080)
                        .setFlags(TCPFlags.newBuilder().setSYN(true))))
                .setSource(a).setDestination(b).setType(FlowType.L3_L4).setNodeName("train")
                .setTrafficDirection(TrafficDirection.INGRESS);
        if (drop) f.setDropReasonDesc(DropReason.POLICY_DENIED);
        return f.build();
    }
}
