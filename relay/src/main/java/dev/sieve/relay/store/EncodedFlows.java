package dev.sieve.relay.store;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sieve.api.flow.Flow;
import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * Flows as they arrived, one encoded {@code flow.Flow} each: a store that writes bytes (ClickHouse)
 * takes {@link #encoded}, anything that needs an object gets one from {@link #get}, parsed on first
 * use. A flow that does not parse throws {@link MalformedFlowException}.
 */
public final class EncodedFlows extends AbstractList<Flow> implements RandomAccess {
  private final List<ByteString> encoded;
  private final Flow[] parsed;

  public EncodedFlows(List<ByteString> encoded) {
    this.encoded = encoded;
    this.parsed = new Flow[encoded.size()];
  }

  public ByteString encoded(int i) {
    return encoded.get(i);
  }

  @Override
  public Flow get(int i) {
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

  @Override
  public int size() {
    return encoded.size();
  }

  /** A flow of a batch is not a valid {@code flow.Flow}; the batch is rejected. */
  public static final class MalformedFlowException extends RuntimeException {
    public MalformedFlowException(int index, String problem) {
      super("flows[" + index + "]: " + problem);
    }
  }
}
