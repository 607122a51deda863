package dev.sieve.relay.store.memory;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VarBinaryVector;

/**
 * A fixed number of rows of the ring as Arrow column vectors. Rows are appended until the chunk is
 * full; the ring drops whole chunks when it is at capacity. String columns hold dictionary ids.
 */
final class Chunk implements AutoCloseable {
    static final int SRC_NS = 0, SRC_POD = 1, DST_NS = 2, DST_POD = 3, SRC_WL = 4, DST_WL = 5, SRC_LABELS = 6,
            DST_LABELS = 7, SRC_IP = 8, DST_IP = 9, NODE = 10, POLICIES = 11, SRC_PORT = 12, DST_PORT = 13,
            SRC_ID = 14, DST_ID = 15, INT_COLUMNS = 16;
    static final String[] INT_NAMES = {"src_namespace", "src_pod", "dst_namespace", "dst_pod", "src_workload", "dst_workload",
            "src_labels", "dst_labels", "src_ip", "dst_ip", "node_name", "policies", "src_port", "dst_port", "src_identity", "dst_identity"};

    final long id;
    final int capacity;
    int size;
    /** Where the flows' bytes end in the flow vector's data buffer. */
    long flowBytesEnd;
    long minTime = Long.MAX_VALUE, maxTime = Long.MIN_VALUE;

    final BigIntVector time;
    final TinyIntVector verdict, direction, protocol;
    final SmallIntVector dropReason;
    final IntVector[] ints = new IntVector[INT_COLUMNS];
    final VarBinaryVector bytes;
    // raw buffers for the scan loop
    final ArrowBuf timeBuf, verdictBuf, directionBuf, protocolBuf, dropBuf;
    final ArrowBuf[] intBufs = new ArrowBuf[INT_COLUMNS];

    Chunk(long id, int capacity, BufferAllocator alloc, int avgFlowBytes) {
        this.id = id;
        this.capacity = capacity;
        time = new BigIntVector("time", alloc);
        time.allocateNew(capacity);
        verdict = new TinyIntVector("verdict", alloc);
        verdict.allocateNew(capacity);
        direction = new TinyIntVector("direction", alloc);
        direction.allocateNew(capacity);
        protocol = new TinyIntVector("protocol", alloc);
        protocol.allocateNew(capacity);
        dropReason = new SmallIntVector("drop_reason", alloc);
        dropReason.allocateNew(capacity);
        for (int c = 0; c < INT_COLUMNS; c++) {
            ints[c] = new IntVector(INT_NAMES[c], alloc);
            ints[c].allocateNew(capacity);
            intBufs[c] = ints[c].getDataBuffer();
        }
        bytes = new VarBinaryVector("flow", alloc);
        bytes.allocateNew((long) capacity * avgFlowBytes, capacity);
        for (int i = 0; i < capacity; i++) BitVectorHelper.setBit(bytes.getValidityBuffer(), i); // no flow is null
        timeBuf = time.getDataBuffer();
        verdictBuf = verdict.getDataBuffer();
        directionBuf = direction.getDataBuffer();
        protocolBuf = protocol.getDataBuffer();
        dropBuf = dropReason.getDataBuffer();
    }

    /** The flow vector's data buffer, grown to hold at least {@code bytes} (rows are appended in runs, not with setSafe). */
    ArrowBuf flowData(long need) {
        if (bytes.getDataBuffer().capacity() < need) bytes.reallocDataBuffer(Math.max(need, 2 * bytes.getDataBuffer().capacity()));
        return bytes.getDataBuffer();
    }

    /** Sets the vectors' value counts to the rows appended (the scans read the raw buffers; readers of the vectors need these). */
    void seal() {
        time.setValueCount(size);
        if (size > 0) bytes.setLastSet(size - 1);
        bytes.setValueCount(size);
    }

    boolean full() {
        return size == capacity;
    }

    long time(int row) {
        return timeBuf.getLong((long) row * 8);
    }

    int intCol(int c, int row) {
        return intBufs[c].getInt((long) row * 4);
    }

    int verdict(int row) {
        return verdictBuf.getByte(row);
    }

    int direction(int row) {
        return directionBuf.getByte(row);
    }

    int protocol(int row) {
        return protocolBuf.getByte(row) & 0xff;
    }

    int dropReason(int row) {
        return dropBuf.getShort((long) row * 2) & 0xffff;
    }

    byte[] flowBytes(int row) {
        return bytes.get(row);
    }

    @Override
    public void close() {
        time.close();
        verdict.close();
        direction.close();
        protocol.close();
        dropReason.close();
        for (IntVector v : ints) v.close();
        bytes.close();
    }
}
