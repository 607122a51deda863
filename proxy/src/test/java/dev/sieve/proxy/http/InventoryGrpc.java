package dev.sieve.proxy.http;

import com.google.protobuf.StringValue;
import io.grpc.BindableService;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small gRPC service, {@code sieve.demo.Inventory} with the unary methods {@code GetItem} and
 * {@code DeleteItem} (item name in, description out, as protobuf's {@code StringValue}): the demo's and the
 * end-to-end tests' gRPC peer, so that a policy can allow one method of a service and not the other
 * ({@code /sieve.demo.Inventory/GetItem}). The method descriptors are written by hand (no generated stubs);
 * on the wire it is gRPC like any other service.
 */
public final class InventoryGrpc {

    public static final String SERVICE = "sieve.demo.Inventory";

    public static final MethodDescriptor<StringValue, StringValue> GET_ITEM = method("GetItem");
    public static final MethodDescriptor<StringValue, StringValue> DELETE_ITEM = method("DeleteItem");

    private InventoryGrpc() {}

    private static MethodDescriptor<StringValue, StringValue> method(String name) {
        return MethodDescriptor.<StringValue, StringValue>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
                .setResponseMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
                .build();
    }

    /** The service: every item exists; counts the calls of each method (a denied call must never arrive). */
    public static final class Service implements BindableService {
        private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();

        public long calls(String method) {
            AtomicLong n = calls.get(method);
            return n == null ? 0 : n.get();
        }

        @Override
        public ServerServiceDefinition bindService() {
            return ServerServiceDefinition.builder(SERVICE)
                    .addMethod(GET_ITEM, ServerCalls.asyncUnaryCall((req, out) -> {
                        count("GetItem");
                        out.onNext(StringValue.of("item " + req.getValue() + ": 3 in stock"));
                        out.onCompleted();
                    }))
                    .addMethod(DELETE_ITEM, ServerCalls.asyncUnaryCall((req, out) -> {
                        count("DeleteItem");
                        out.onNext(StringValue.of("item " + req.getValue() + " deleted"));
                        out.onCompleted();
                    }))
                    .build();
        }

        private void count(String method) {
            calls.computeIfAbsent(method, k -> new AtomicLong()).incrementAndGet();
        }
    }

    public static String getItem(Channel ch, String item, long deadlineMillis) {
        return call(ch, GET_ITEM, item, deadlineMillis);
    }

    public static String deleteItem(Channel ch, String item, long deadlineMillis) {
        return call(ch, DELETE_ITEM, item, deadlineMillis);
    }

    private static String call(Channel ch, MethodDescriptor<StringValue, StringValue> m, String item, long deadlineMillis) {
        return ClientCalls.blockingUnaryCall(ch, m,
                io.grpc.CallOptions.DEFAULT.withDeadlineAfter(deadlineMillis, java.util.concurrent.TimeUnit.MILLISECONDS),
                StringValue.of(item)).getValue();
    }
}
