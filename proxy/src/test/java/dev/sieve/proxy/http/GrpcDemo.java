package dev.sieve.proxy.http;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.StatusRuntimeException;
import java.net.InetSocketAddress;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;

/**
 * The demo's gRPC peers ({@code scripts/demo/grpc.sh}), a real grpc-java server and client:
 * <pre>
 *   GrpcDemo server ADDRESS PORT      serves {@link InventoryGrpc} and prints each method's calls every 10 s
 *   GrpcDemo client HOST:PORT         each second GetItem and DeleteItem on one channel; prints a line per
 *                                     change of outcome ("GetItem: OK", "DeleteItem: PERMISSION_DENIED Access denied")
 * </pre>
 */
public final class GrpcDemo {

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !(args[0].equals("server") && args.length == 3 || args[0].equals("client"))) {
            System.err.println("usage: GrpcDemo server ADDRESS PORT | client HOST:PORT");
            System.exit(2);
        }
        if (args[0].equals("server")) serve(args[1], Integer.parseInt(args[2]));
        else call(args[1]);
    }

    static void serve(String address, int port) throws Exception {
        InventoryGrpc.Service inventory = new InventoryGrpc.Service();
        Server server = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(new InetSocketAddress(address, port))
                .addService(inventory).build().start();
        System.out.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " " + InventoryGrpc.SERVICE + " on " + address + ":" + port);
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        while (!server.isTerminated()) {
            Thread.sleep(10_000);
            System.out.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " calls: GetItem " + inventory.calls("GetItem")
                    + ", DeleteItem " + inventory.calls("DeleteItem"));
        }
    }

    static void call(String target) throws InterruptedException {
        ManagedChannel ch = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
        Map<String, String> last = new HashMap<>();
        for (long i = 0; ; i++) {
            String item = "widget-" + (i % 10);
            report(last, "GetItem", () -> InventoryGrpc.getItem(ch, item, 3000));
            report(last, "DeleteItem", () -> InventoryGrpc.deleteItem(ch, item, 3000));
            Thread.sleep(1000);
        }
    }

    private static void report(Map<String, String> last, String method, java.util.function.Supplier<String> call) {
        String outcome;
        try {
            call.get();
            outcome = "OK";
        } catch (StatusRuntimeException e) {
            outcome = e.getStatus().getCode() + (e.getStatus().getDescription() == null ? "" : " " + e.getStatus().getDescription());
        }
        if (!outcome.equals(last.put(method, outcome))) {
            System.out.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " " + method + ": " + outcome);
            System.out.flush();
        }
    }
}
