package dev.sieve.relay.store;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sieve.api.flow.Flow;
import java.util.ArrayList;
import java.util.List;

/**
 * The flows of one batch as they arrived: one encoded {@code flow.Flow} each. Stores read their
 * columns from the bytes ({@link FlowColumns}); whoever needs objects (live followers, tests) gets
 * them from {@link #flow}, parsed on first use. A flow that does not parse throws
 * {@link MalformedFlowException}.
 */
public final class EncodedBatch {
    public static final EncodedBatch EMPTY = new EncodedBatch(List.of());

    private final List<ByteString> encoded;
    private final Flow[] parsed;
    private final FlowCheck check;

    /**
     * What the sender checks of each flow, run as a store reads the flow's columns — one read per flow
     * for both — before the store keeps anything of the batch.
     */
    public interface FlowCheck {
        /**
         * Why flow {@code i}, whose columns {@code c} were just read, is refused; null when it is fine.
         * Called for different flows of a batch from up to two threads at once (the memory store reads a
         * large batch in two halves).
         */
        String problem(int i, FlowColumns c);
    }

    public EncodedBatch(List<ByteString> encoded) {
        this(encoded, null);
    }

    public EncodedBatch(List<ByteString> encoded, FlowCheck check) {
        this.encoded = encoded;
        this.parsed = new Flow[encoded.size()];
        this.check = check;
    }

    /** A batch of flows held as objects (tests, in-process callers): encoded once here. */
    public static EncodedBatch of(List<Flow> flows) {
        List<ByteString> e = new ArrayList<>(flows.size());
        for (Flow f : flows) e.add(f.toByteString());
        EncodedBatch b = new EncodedBatch(e);
        for (int i = 0; i < flows.size(); i++) b.parsed[i] = flows.get(i);
        return b;
    }

    public int size() {
        return encoded.size();
    }

    public boolean isEmpty() {
        return encoded.isEmpty();
    }

    public ByteString encoded(int i) {
        return encoded.get(i);
    }

    /** Flow {@code i} parsed (once). */
    public Flow flow(int i) {
        Flow f = parsed[i];
        if (f == null) {
            try {
                parsed[i] = f = Flow.parseFrom(encoded.get(i));
            } catch (InvalidProtocolBufferException e) {
                throw new MalformedFlowException(i, e.getMessage());
            }
        }
        return f;
    }

    /** Flows {@code from} to the end as objects, each parsed when first read. */
    public List<Flow> flows(int from) {
        int n = Math.max(0, size() - from);
        return new java.util.AbstractList<>() {
            @Override
            public Flow get(int i) {
                return flow(from + i);
            }

            @Override
            public int size() {
                return n;
            }
        };
    }

    /** Reads flow {@code i}'s columns into {@code reader}; a flow that is not a {@code flow.Flow} throws {@link MalformedFlowException}. */
    public FlowColumns columns(int i, FlowColumns reader) {
        return columns(i, reader, true);
    }

    /**
     * {@link #columns(int, FlowColumns)}, checking only what the read looks at unless {@code checkAll}
     * ({@link FlowColumns#read(ByteString, boolean)}), then the batch's {@link FlowCheck}.
     */
    public FlowColumns columns(int i, FlowColumns reader, boolean checkAll) {
        try {
            reader.read(encoded.get(i), checkAll);
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedFlowException(i, "not a valid flow.Flow: " + e.getMessage());
        }
        if (check != null) {
            String problem = check.problem(i, reader);
            if (problem != null) throw new MalformedFlowException(i, problem);
        }
        return reader;
    }

    /** A flow of a batch is not a valid {@code flow.Flow}; the batch is rejected. */
    public static final class MalformedFlowException extends RuntimeException {
        public MalformedFlowException(int index, String problem) {
            super("flows[" + index + "]: " + problem);
        }
    }
}
