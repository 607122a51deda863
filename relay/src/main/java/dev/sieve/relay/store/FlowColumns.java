package dev.sieve.relay.store;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.DNS;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Policy;
import dev.sieve.api.flow.TCP;
import dev.sieve.api.flow.Workload;
import dev.sieve.flowfilter.FlowFilters;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The one flow → columns mapping of every store: what filters, sorting, aggregates and the
 * ClickHouse row read without decoding protobuf, read from a flow's encoded bytes in one pass
 * ({@link CodedInputStream}, field numbers from the generated {@code *_FIELD_NUMBER} constants).
 * Strings are spans of the bytes read ({@link #bytes()}), not copies. One reader per thread: each
 * {@link #read} replaces what the previous one found.
 *
 * <p>Besides the columns the read records which parts of the flow no column holds, so that a store
 * can write the flow without them ({@link #writeBlob}: ClickHouse's {@code flow} column) without
 * reading the bytes again. Flow-level semantics follow protobuf-java's parser: the last occurrence of
 * a scalar or string wins, a field with an unexpected wire type is an unknown field (kept, not read).
 * What only the parser can do exactly — merging a message field that occurs twice — is left to it:
 * the flow is parsed and its canonical encoding read instead ({@link #bytes()} then holds that).
 */
public final class FlowColumns {
    /** Protocol codes of the protocol column: IANA numbers; 0 = none. */
    public static final int TCP_CODE = 6, UDP_CODE = 17, ICMPV4_CODE = 1, ICMPV6_CODE = 58, SCTP_CODE = 132;

    /** String columns: spans of {@link #bytes()}. */
    public static final int SRC_NAMESPACE = 0, SRC_POD = 1, SRC_WORKLOAD = 2, DST_NAMESPACE = 3, DST_POD = 4, DST_WORKLOAD = 5,
            SRC_IP = 6, DST_IP = 7, NODE_NAME = 8, UUID = 9;
    /** String columns of the flow's Layer7 record (empty without one). */
    public static final int DNS_QUERY = 10, HTTP_METHOD = 11, HTTP_URL = 12, KAFKA_API_KEY = 13, KAFKA_TOPIC = 14;
    private static final int SRC_RESERVED = 15, DST_RESERVED = 16, SLOTS = 17;
    /** The l7_record column: which record the flow's Layer7 holds. */
    public static final int L7_NONE = 0, L7_DNS = 1, L7_HTTP = 2, L7_KAFKA = 3;
    /** Repeated string columns of the DNS record. */
    public static final int DNS_IPS = 0, DNS_QTYPES = 1;
    // Kafka's record is deprecated in Hubble's proto (still sent by Cilium and Sieve): its numbers by name, not its class
    private static final com.google.protobuf.Descriptors.Descriptor KAFKA = Layer7.getDescriptor().findFieldByName("kafka").getMessageType();
    private static final int KAFKA_ERROR_CODE_FIELD = KAFKA.findFieldByName("error_code").getNumber(),
            KAFKA_API_KEY_FIELD = KAFKA.findFieldByName("api_key").getNumber(), KAFKA_TOPIC_FIELD = KAFKA.findFieldByName("topic").getNumber();
    private static final byte[] RESERVED = "reserved:".getBytes(StandardCharsets.US_ASCII);

    /** The policy lists in the policies column's order, and each one's effect. */
    private static final int[] POLICY_LISTS = {Flow.EGRESS_ALLOWED_BY_FIELD_NUMBER, Flow.INGRESS_ALLOWED_BY_FIELD_NUMBER,
            Flow.EGRESS_DENIED_BY_FIELD_NUMBER, Flow.INGRESS_DENIED_BY_FIELD_NUMBER};
    private static final byte[] ALLOW = "allow:".getBytes(StandardCharsets.US_ASCII), DENY = "deny:".getBytes(StandardCharsets.US_ASCII);

    // blob plan: ops of three ints (op, from, to) over the bytes
    private static final int COPY = 0, EMPTY = 1, OPEN = 2, CLOSE = 3, LABEL = 4;

    private byte[] buf = new byte[4096];
    private int length;
    private final int[] off = new int[SLOTS], len = new int[SLOTS];
    private boolean hasTime;
    private long seconds;
    private int nanos, verdict, dropReason, direction, protocol, srcPort, dstPort, srcIdentity, dstIdentity;
    private int l7Record, l7Type, dnsRcode, httpStatus, kafkaErrorCode;
    private long l7LatencyNs;
    private final int[][] listOff = {new int[4], new int[4]}, listLen = {new int[4], new int[4]};
    private final int[] lists = new int[2];
    private int seen; // bit per singular message field met: a second one is merged by a parser
    private final int[][] labelOff = {new int[16], new int[16]}, labelLen = {new int[16], new int[16]};
    private final int[] labels = new int[2];
    /** Each endpoint's field (tag to end) in the bytes: equal spans mean equal endpoint columns. */
    private final int[] endpointOff = new int[2], endpointLen = new int[2];
    /** Per policy: list (0-3), name, namespace and kind spans, whether the policies column gives it back exactly. */
    private int policies;
    private int[] policyList = new int[8];
    private int[][] policySpans = new int[8][6];
    /** Policy indexes in the policies column's order: by list, then as they occur. */
    private int[] policyOrder = new int[8];
    private int[] ops = new int[96];
    private int opCount;
    private boolean blob, deep, header;
    private final boolean planBlob;

    public FlowColumns() {
        this(true);
    }

    /** {@code planBlob} false: reads plan no blob ({@link #writeBlob} is then not available), for a store that keeps the bytes as received. */
    public FlowColumns(boolean planBlob) {
        this.planBlob = planBlob;
    }

    /**
     * Reads a flow's encoding; throws {@link InvalidProtocolBufferException} when it is not a
     * {@code flow.Flow} — also for what no column reads (every string's UTF-8, every message's
     * framing), as a parser would.
     */
    public FlowColumns read(ByteString flow) throws InvalidProtocolBufferException {
        return read(flow, true);
    }

    /**
     * {@link #read}; {@code checkAll} false checks only what the read looks at, leaving what a parser
     * would refuse deeper down to whoever parses the flow later (ClickHouse stores such a flow and
     * reads it back as far as its columns go).
     */
    public FlowColumns read(ByteString flow, boolean checkAll) throws InvalidProtocolBufferException {
        int n = flow.size();
        if (buf.length < n) buf = new byte[Math.max(n, buf.length * 2)];
        flow.copyTo(buf, 0);
        return readOwn(n, planBlob, checkAll);
    }

    /** {@link #read} of a parsed flow (its canonical encoding). */
    public FlowColumns read(Flow flow) {
        int n = flow.getSerializedSize();
        if (buf.length < n) buf = new byte[Math.max(n, buf.length * 2)];
        try {
            flow.writeTo(com.google.protobuf.CodedOutputStream.newInstance(buf, 0, n));
            return readOwn(n, planBlob, false);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("a parsed flow's encoding does not read back", e);
        }
    }

    /**
     * Reads what ingest checks — time, node name, the endpoints (namespaces) — and skips the rest (IP,
     * L4 and policies are left empty): no blob plan, and no check deeper than what is read (the
     * store's read does that).
     */
        public FlowColumns readHeader(ByteString flow) throws InvalidProtocolBufferException {
        int n = flow.size();
        if (buf.length < n) buf = new byte[Math.max(n, buf.length * 2)];
        flow.copyTo(buf, 0);
        header = true;
        try {
            return readOwn(n, false, false);
        } finally {
            header = false;
        }
    }

    private FlowColumns readOwn(int n, boolean withBlob, boolean checkAll) throws InvalidProtocolBufferException {
        if (scan(n, withBlob, checkAll)) return this;
        // something only a parser does exactly: its canonical encoding holds each message once
        Flow parsed = Flow.parseFrom(UnsafeByteOperations.unsafeWrap(buf, 0, n));
        int m = parsed.getSerializedSize();
        byte[] canonical = new byte[Math.max(m, buf.length)];
        try {
            parsed.writeTo(com.google.protobuf.CodedOutputStream.newInstance(canonical, 0, m));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        buf = canonical;
        if (!scan(m, withBlob, checkAll)) throw new IllegalStateException("a canonical flow encoding needs the parser");
        return this;
    }

    // ------------------------------------------------------------------ columns

    /** The bytes read: the flow's encoding from 0 to {@link #length()}; valid until the next read. */
    public byte[] bytes() {
        return buf;
    }

    public int length() {
        return length;
    }

    public boolean hasTime() {
        return hasTime;
    }

    public long seconds() {
        return seconds;
    }

    public int nanos() {
        return nanos;
    }

    /** Epoch nanoseconds (0 without a time). */
    public long timeNanos() {
        return seconds * 1_000_000_000L + nanos;
    }

    public int verdict() {
        return verdict;
    }

    public int dropReason() {
        return dropReason;
    }

    public int direction() {
        return direction;
    }

    /** {@link #TCP_CODE} ... {@link #SCTP_CODE}, 0 for none. */
    public int protocol() {
        return protocol;
    }

    /** TCP, UDP or SCTP source port, else 0. */
    public int srcPort() {
        return srcPort;
    }

    public int dstPort() {
        return dstPort;
    }

    /** Identity as its 32 bits (uint32). */
    public int srcIdentity() {
        return srcIdentity;
    }

    public int dstIdentity() {
        return dstIdentity;
    }

    /** {@link #L7_DNS}, {@link #L7_HTTP}, {@link #L7_KAFKA}, or {@link #L7_NONE} without a Layer7 record. */
    public int l7Record() {
        return l7Record;
    }

    /** flow.L7FlowType: 1 request, 2 response, 3 sample; 0 without Layer7. */
    public int l7Type() {
        return l7Type;
    }

    public long l7LatencyNs() {
        return l7LatencyNs;
    }

    /** The DNS record's rcode (uint32). */
    public int dnsRcode() {
        return dnsRcode;
    }

    /** The HTTP record's status code (uint32). */
    public int httpStatus() {
        return httpStatus;
    }

    public int kafkaErrorCode() {
        return kafkaErrorCode;
    }

    /** Number of values of repeated string column {@code list} ({@link #DNS_IPS}, {@link #DNS_QTYPES}). */
    public int listCount(int list) {
        return lists[list];
    }

    public int listOffset(int list, int i) {
        return listOff[list][i];
    }

    public int listLength(int list, int i) {
        return listLen[list][i];
    }

    /** Repeated string column {@code list} as strings. */
    public java.util.List<String> list(int list) {
        String[] out = new String[lists[list]];
        for (int i = 0; i < out.length; i++) out[i] = new String(buf, listOff[list][i], listLen[list][i], StandardCharsets.UTF_8);
        return java.util.List.of(out);
    }

    /** Where string column {@code slot} starts in {@link #bytes()}. The workload columns name the endpoint for the service map. */
    public int offset(int slot) {
        return off[slot];
    }

    public int length(int slot) {
        return len[slot];
    }

    public String string(int slot) {
        return new String(buf, off[slot], len[slot], StandardCharsets.UTF_8);
    }

    /** Number of labels of the source ({@code source}) or destination endpoint. */
    public int labelCount(boolean source) {
        return labels[source ? 0 : 1];
    }

    public int labelOffset(boolean source, int i) {
        return labelOff[source ? 0 : 1][i];
    }

    public int labelLength(boolean source, int i) {
        return labelLen[source ? 0 : 1][i];
    }

    /**
     * Where the source's ({@code source}) or destination's Endpoint field starts in {@link #bytes()}, tag
     * included; its namespace, pod, workload and labels columns are read from this span alone, so two
     * flows whose spans hold the same bytes have the same values there (a store can look them up once).
     */
    public int endpointOffset(boolean source) {
        return endpointOff[source ? 0 : 1];
    }

    /** The length of {@link #endpointOffset}'s span; 0 without the endpoint. */
    public int endpointLength(boolean source) {
        return endpointLen[source ? 0 : 1];
    }

    /** The endpoint's labels as a list of strings. */
    public java.util.List<String> labels(boolean source) {
        int s = source ? 0 : 1;
        String[] out = new String[labels[s]];
        for (int i = 0; i < out.length; i++) out[i] = new String(buf, labelOff[s][i], labelLen[s][i], StandardCharsets.UTF_8);
        return java.util.List.of(out);
    }

    /** Policies that decided the flow (egress allowed, ingress allowed, egress denied, ingress denied). */
    public int policyCount() {
        return policies;
    }

    /** Length of policy {@code i}'s policies-column value "allow:Kind/namespace/name" (or "deny:..."), in the column's order. */
    public int policyValueLength(int i) {
        i = policyOrder[i];
        int[] s = policySpans[i];
        return (policyList[i] < 2 ? ALLOW.length : DENY.length) + s[5] + 1 + s[3] + 1 + s[1];
    }

    /** Writes policy {@code i}'s policies-column value to {@code out} at {@code at}; returns where it ends. */
    public int policyValue(int i, byte[] out, int at) {
        i = policyOrder[i];
        int[] s = policySpans[i];
        byte[] effect = policyList[i] < 2 ? ALLOW : DENY;
        System.arraycopy(effect, 0, out, at, effect.length);
        at += effect.length;
        System.arraycopy(buf, s[4], out, at, s[5]);
        at += s[5];
        out[at++] = '/';
        System.arraycopy(buf, s[2], out, at, s[3]);
        at += s[3];
        out[at++] = '/';
        System.arraycopy(buf, s[0], out, at, s[1]);
        return at + s[1];
    }

    /** The protocol column's code for one of {@link FlowFilters}' L4 protocol bits, 0 for none. */
    public static int protocolCode(int l4Bit) {
        return switch (l4Bit) {
            case FlowFilters.P_TCP -> TCP_CODE;
            case FlowFilters.P_UDP -> UDP_CODE;
            case FlowFilters.P_ICMP4 -> ICMPV4_CODE;
            case FlowFilters.P_ICMP6 -> ICMPV6_CODE;
            case FlowFilters.P_SCTP -> SCTP_CODE;
            default -> 0;
        };
    }

    // ------------------------------------------------------------------ blob

    /**
     * The flow without what the columns hold — time, uuid, verdict, drop reason, direction, node name,
     * IP addresses, each endpoint's identity, namespace and pod, and (unless {@code keepLabels}) its
     * labels; a policy the policies column gives back exactly keeps an empty Policy in its list — as
     * a length-prefixed value at {@code out[at]}. A message stripped to nothing stays as an empty
     * message, so {@code hasSource()} and friends read back as written. Returns where it ends.
     */
    public int writeBlob(byte[] out, int at, boolean keepLabels) {
        if (!planBlob) throw new IllegalStateException("this reader plans no blob");
        int n = 0;
        for (int i = 0; i < opCount; i++) {
            int op = ops[3 * i], from = ops[3 * i + 1], to = ops[3 * i + 2];
            switch (op) {
                case COPY -> n += to - from;
                case EMPTY -> n += to - from + 1;
                case OPEN -> {
                    int sub = subLength(i, keepLabels);
                    n += to - from + varintSize(sub) + sub;
                    while (ops[3 * i] != CLOSE) i++; // counted: its body
                }
                default -> { }
            }
        }
        at = writeVarint(out, at, n);
        for (int i = 0; i < opCount; i++) {
            int op = ops[3 * i], from = ops[3 * i + 1], to = ops[3 * i + 2];
            switch (op) {
                case COPY -> at = copy(out, at, from, to);
                case LABEL -> { if (keepLabels) at = copy(out, at, from, to); }
                case EMPTY -> { at = copy(out, at, from, to); out[at++] = 0; }
                case OPEN -> { at = copy(out, at, from, to); at = writeVarint(out, at, subLength(i, keepLabels)); }
                default -> { }
            }
        }
        return at;
    }

    /** Most bytes {@link #writeBlob} writes. */
    public int blobBound() {
        return length + 2 * opCount + 10;
    }

    private int copy(byte[] out, int at, int from, int to) {
        System.arraycopy(buf, from, out, at, to - from);
        return at + to - from;
    }

    private int subLength(int open, boolean keepLabels) {
        int n = 0;
        for (int i = open + 1; ops[3 * i] != CLOSE; i++) {
            int op = ops[3 * i];
            if (op == COPY || op == LABEL && keepLabels) n += ops[3 * i + 2] - ops[3 * i + 1];
        }
        return n;
    }

    private static int varintSize(int v) {
        int n = 1;
        while ((v & ~0x7F) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    private static int writeVarint(byte[] out, int at, int v) {
        while ((v & ~0x7F) != 0) {
            out[at++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out[at++] = (byte) v;
        return at;
    }

    private void op(int op, int from, int to) {
        if (!blob) return;
        if (op == COPY && opCount > 0 && ops[3 * (opCount - 1)] == COPY && ops[3 * (opCount - 1) + 2] == from) {
            ops[3 * (opCount - 1) + 2] = to; // adjacent: one copy
            return;
        }
        if (ops.length < 3 * (opCount + 1)) ops = Arrays.copyOf(ops, ops.length * 2);
        ops[3 * opCount] = op;
        ops[3 * opCount + 1] = from;
        ops[3 * opCount + 2] = to;
        opCount++;
    }

    // ------------------------------------------------------------------ the read

    /**
     * A message type's fields by number, for checking what no column reads as a parser would: the
     * UTF-8 of every string and the framing of every message inside (a flow a parser refuses is not
     * stored).
     */
    private static final class Shape {
        private static final java.util.Map<com.google.protobuf.Descriptors.Descriptor, Shape> ALL = new java.util.concurrent.ConcurrentHashMap<>();
        static final Shape FLOW = of(Flow.getDescriptor()), ENDPOINT = of(Endpoint.getDescriptor()), IP_SHAPE = of(IP.getDescriptor()),
                L4 = of(Layer4.getDescriptor()), TIMESTAMP = of(Timestamp.getDescriptor()), WORKLOAD = of(Workload.getDescriptor()),
                POLICY = of(Policy.getDescriptor()), L7 = of(Layer7.getDescriptor()), DNS_SHAPE = of(DNS.getDescriptor()),
                HTTP_SHAPE = of(HTTP.getDescriptor()), KAFKA_SHAPE = of(KAFKA);
        final com.google.protobuf.Descriptors.Descriptor type;
        private final com.google.protobuf.Descriptors.FieldDescriptor[] small = new com.google.protobuf.Descriptors.FieldDescriptor[64];

        private Shape(com.google.protobuf.Descriptors.Descriptor type) {
            this.type = type;
            for (var f : type.getFields()) if (f.getNumber() < small.length) small[f.getNumber()] = f;
        }

        static Shape of(com.google.protobuf.Descriptors.Descriptor type) {
            Shape s = ALL.get(type);
            if (s == null) ALL.put(type, s = new Shape(type));
            return s;
        }

        private final Shape[] subs = new Shape[64];

        com.google.protobuf.Descriptors.FieldDescriptor field(int number) {
            return number < small.length ? small[number] : type.findFieldByNumber(number);
        }

        /** The shape of message field {@code f} of this type. */
        Shape sub(com.google.protobuf.Descriptors.FieldDescriptor f) {
            int n = f.getNumber();
            if (n >= subs.length) return of(f.getMessageType());
            Shape s = subs[n];
            if (s == null) subs[n] = s = of(f.getMessageType());
            return s;
        }
    }

    /** Skips one field of a message of {@code shape}, checking it as a parser would (deep reads only). */
    private void check(CodedInputStream in, int tag, Shape shape) throws java.io.IOException {
        if (!deep || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            skip(in, tag);
            return;
        }
        var f = shape.field(WireFormat.getTagFieldNumber(tag));
        if (f == null) {
            skip(in, tag);
        } else if (f.getType() == com.google.protobuf.Descriptors.FieldDescriptor.Type.STRING) {
            span(in);
        } else if (f.getType() == com.google.protobuf.Descriptors.FieldDescriptor.Type.MESSAGE) {
            Shape sub = shape.sub(f);
            int old = enter(in);
            for (int t; (t = in.readTag()) != 0; ) check(in, t, sub);
            leave(in, old);
        } else {
            skip(in, tag);
        }
    }

    /** Thrown inside a scan for what only the parser handles exactly. */
    private static final class NeedsParser extends RuntimeException {
        static final NeedsParser INSTANCE = new NeedsParser();

        private NeedsParser() {
            super(null, null, false, false);
        }
    }

    private boolean scan(int n, boolean withBlob, boolean checkAll) throws InvalidProtocolBufferException {
        length = n;
        blob = withBlob;
        deep = checkAll;
        Arrays.fill(off, 0);
        Arrays.fill(len, 0);
        hasTime = false;
        seconds = 0;
        nanos = verdict = dropReason = direction = protocol = srcPort = dstPort = srcIdentity = dstIdentity = seen = 0;
        labels[0] = labels[1] = 0;
        endpointOff[0] = endpointOff[1] = endpointLen[0] = endpointLen[1] = 0;
        l7Record = l7Type = dnsRcode = httpStatus = kafkaErrorCode = 0;
        l7LatencyNs = 0;
        lists[0] = lists[1] = 0;
        policies = opCount = 0;
        CodedInputStream in = CodedInputStream.newInstance(buf, 0, n);
        try {
            for (int start = 0, tag; (tag = in.readTag()) != 0; start = in.getTotalBytesRead()) {
                int field = WireFormat.getTagFieldNumber(tag), type = WireFormat.getTagWireType(tag);
                boolean delimited = type == WireFormat.WIRETYPE_LENGTH_DELIMITED, varint = type == WireFormat.WIRETYPE_VARINT;
                switch (field) {
                    case Flow.TIME_FIELD_NUMBER -> {
                        if (delimited) time(in, 0);
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.VERDICT_FIELD_NUMBER -> {
                        if (varint) verdict = in.readEnum();
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.TRAFFIC_DIRECTION_FIELD_NUMBER -> {
                        if (varint) direction = in.readEnum();
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.DROP_REASON_DESC_FIELD_NUMBER -> {
                        if (varint) dropReason = in.readEnum();
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.NODE_NAME_FIELD_NUMBER -> {
                        if (delimited) string(in, NODE_NAME);
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.UUID_FIELD_NUMBER -> {
                        if (delimited) string(in, UUID);
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.IP_FIELD_NUMBER -> {
                        if (delimited && !header) ip(in, start);
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.L4_FIELD_NUMBER -> {
                        if (delimited && !header) l4(in, start);
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.L7_FIELD_NUMBER -> {
                        if (delimited && !header) l7(in, start);
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.SOURCE_FIELD_NUMBER, Flow.DESTINATION_FIELD_NUMBER -> {
                        if (delimited) endpoint(in, start, field == Flow.SOURCE_FIELD_NUMBER);
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    case Flow.EGRESS_ALLOWED_BY_FIELD_NUMBER, Flow.INGRESS_ALLOWED_BY_FIELD_NUMBER, Flow.EGRESS_DENIED_BY_FIELD_NUMBER,
                              Flow.INGRESS_DENIED_BY_FIELD_NUMBER -> {
                        if (delimited && !header) policy(in, start, field);
                        else keep(in, tag, start, Shape.FLOW);
                    }
                    default -> keep(in, tag, start, Shape.FLOW);
                }
            }
        } catch (NeedsParser e) {
            return false;
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new InvalidProtocolBufferException(e);
        }
        if (policyOrder.length < policies) policyOrder = new int[policyList.length];
        for (int list = 0, k = 0; list < 4; list++) for (int i = 0; i < policies; i++) if (policyList[i] == list) policyOrder[k++] = i;
        for (int side = 0; side < 2; side++) { // the service map's name: the first workload's, else the pod, else a reserved: label
            int wl = side == 0 ? SRC_WORKLOAD : DST_WORKLOAD, pod = side == 0 ? SRC_POD : DST_POD, res = side == 0 ? SRC_RESERVED : DST_RESERVED;
            if (len[wl] > 0) continue;
            int from = len[pod] > 0 ? pod : res;
            off[wl] = off[from];
            len[wl] = len[from];
        }
        return true;
    }

    /** A field no column reads: checked, and kept in the blob. */
    private void keep(CodedInputStream in, int tag, int start, Shape shape) throws java.io.IOException {
        check(in, tag, shape);
        op(COPY, start, in.getTotalBytesRead());
    }

    private void skip(CodedInputStream in, int tag) throws java.io.IOException {
        if (!in.skipField(tag)) throw new InvalidProtocolBufferException("unexpected end-group tag");
    }

    /** Enters a length-delimited message; returns the old limit. */
    private static int enter(CodedInputStream in) throws java.io.IOException {
        return in.pushLimit(in.readRawVarint32());
    }

    private static void leave(CodedInputStream in, int old) throws InvalidProtocolBufferException {
        in.checkLastTagWas(0);
        in.popLimit(old);
    }

    private void once(int bit) {
        if ((seen & (1 << bit)) != 0) throw NeedsParser.INSTANCE;
        seen |= 1 << bit;
    }

    private void time(CodedInputStream in, int bit) throws java.io.IOException {
        once(bit);
        hasTime = true;
        int old = enter(in);
        for (int t; (t = in.readTag()) != 0; ) {
            if (t == tag(Timestamp.SECONDS_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) seconds = in.readInt64();
            else if (t == tag(Timestamp.NANOS_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) nanos = in.readInt32();
            else check(in, t, Shape.TIMESTAMP);
        }
        leave(in, old);
    }

    private void ip(CodedInputStream in, int start) throws java.io.IOException {
        once(1);
        op(OPEN, start, in.getTotalBytesRead());
        int old = enter(in);
        for (int s = in.getTotalBytesRead(), t; (t = in.readTag()) != 0; s = in.getTotalBytesRead()) {
            if (t == tag(IP.SOURCE_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) string(in, SRC_IP);
            else if (t == tag(IP.DESTINATION_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) string(in, DST_IP);
            else keep(in, t, s, Shape.IP_SHAPE);
        }
        leave(in, old);
        op(CLOSE, 0, 0);
    }

    /** Layer4's oneof (TCP, UDP, ICMPv4, ICMPv6, SCTP), with the ports of TCP, UDP and SCTP; kept whole in the blob. */
    private void l4(CodedInputStream in, int start) throws java.io.IOException {
        once(2);
        int old = enter(in);
        for (int t; (t = in.readTag()) != 0; ) {
            int field = WireFormat.getTagFieldNumber(t);
            int code = switch (field) {
                case Layer4.TCP_FIELD_NUMBER -> TCP_CODE;
                case Layer4.UDP_FIELD_NUMBER -> UDP_CODE;
                case Layer4.ICMPV4_FIELD_NUMBER -> ICMPV4_CODE;
                case Layer4.ICMPV6_FIELD_NUMBER -> ICMPV6_CODE;
                case Layer4.SCTP_FIELD_NUMBER -> SCTP_CODE;
                default -> 0;
            };
            if (code == 0 || WireFormat.getTagWireType(t) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                check(in, t, Shape.L4);
                continue;
            }
            if (protocol != 0) throw NeedsParser.INSTANCE; // a parser merges or replaces: not ours to decide
            protocol = code;
            int inner = enter(in);
            boolean ports = code == TCP_CODE || code == UDP_CODE || code == SCTP_CODE; // same port field numbers in all three
            for (int p; (p = in.readTag()) != 0; ) {
                if (ports && p == tag(TCP.SOURCE_PORT_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) srcPort = in.readUInt32();
                else if (ports && p == tag(TCP.DESTINATION_PORT_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) dstPort = in.readUInt32();
                else check(in, p, protocolShape(field));
            }
            leave(in, inner);
        }
        leave(in, old);
        op(COPY, start, in.getTotalBytesRead());
    }

    /**
     * Layer7: type, latency and the record's columns (DNS query, rcode, qtypes, IPs; HTTP method, status,
     * URL; Kafka API key, topic, error code); kept whole in the blob. A second record is the parser's
     * to resolve (a oneof: the last one wins, the same one twice merges).
     */
    private void l7(CodedInputStream in, int start) throws java.io.IOException {
        once(5);
        int old = enter(in);
        for (int t; (t = in.readTag()) != 0; ) {
            if (t == tag(Layer7.TYPE_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) l7Type = in.readEnum();
            else if (t == tag(Layer7.LATENCY_NS_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) l7LatencyNs = in.readUInt64();
            else if (t == tag(Layer7.DNS_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) dns(in);
            else if (t == tag(Layer7.HTTP_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) http(in);
            else if (t == tag(Layer7.KAFKA_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) kafka(in);
            else check(in, t, Shape.L7);
        }
        leave(in, old);
        op(COPY, start, in.getTotalBytesRead());
    }

    private void record(int kind) {
        if (l7Record != L7_NONE) throw NeedsParser.INSTANCE;
        l7Record = kind;
    }

    private void dns(CodedInputStream in) throws java.io.IOException {
        record(L7_DNS);
        int old = enter(in);
        for (int t; (t = in.readTag()) != 0; ) {
            if (t == tag(DNS.QUERY_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) string(in, DNS_QUERY);
            else if (t == tag(DNS.IPS_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) listValue(in, DNS_IPS);
            else if (t == tag(DNS.QTYPES_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) listValue(in, DNS_QTYPES);
            else if (t == tag(DNS.RCODE_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) dnsRcode = in.readUInt32();
            else check(in, t, Shape.DNS_SHAPE);
        }
        leave(in, old);
    }

    private void http(CodedInputStream in) throws java.io.IOException {
        record(L7_HTTP);
        int old = enter(in);
        for (int t; (t = in.readTag()) != 0; ) {
            if (t == tag(HTTP.CODE_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) httpStatus = in.readUInt32();
            else if (t == tag(HTTP.METHOD_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) string(in, HTTP_METHOD);
            else if (t == tag(HTTP.URL_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) string(in, HTTP_URL);
            else check(in, t, Shape.HTTP_SHAPE);
        }
        leave(in, old);
    }

    private void kafka(CodedInputStream in) throws java.io.IOException {
        record(L7_KAFKA);
        int old = enter(in);
        for (int t; (t = in.readTag()) != 0; ) {
            if (t == tag(KAFKA_ERROR_CODE_FIELD, WireFormat.WIRETYPE_VARINT)) kafkaErrorCode = in.readInt32();
            else if (t == tag(KAFKA_API_KEY_FIELD, WireFormat.WIRETYPE_LENGTH_DELIMITED)) string(in, KAFKA_API_KEY);
            else if (t == tag(KAFKA_TOPIC_FIELD, WireFormat.WIRETYPE_LENGTH_DELIMITED)) string(in, KAFKA_TOPIC);
            else check(in, t, Shape.KAFKA_SHAPE);
        }
        leave(in, old);
    }

    private void listValue(CodedInputStream in, int list) throws java.io.IOException {
        int o = span(in), c = lists[list]++;
        if (listOff[list].length == c) {
            listOff[list] = Arrays.copyOf(listOff[list], 2 * c);
            listLen[list] = Arrays.copyOf(listLen[list], 2 * c);
        }
        listOff[list][c] = o;
        listLen[list][c] = in.getTotalBytesRead() - o;
    }

    private static int tag(int field, int wireType) {
        return field << 3 | wireType;
    }

    private static Shape protocolShape(int l4Field) {
        return Shape.L4.sub(Shape.L4.field(l4Field));
    }

    private void endpoint(CodedInputStream in, int start, boolean source) throws java.io.IOException {
        once(source ? 3 : 4);
        int side = source ? 0 : 1;
        int ns = source ? SRC_NAMESPACE : DST_NAMESPACE, pod = source ? SRC_POD : DST_POD;
        int workload = source ? SRC_WORKLOAD : DST_WORKLOAD, reserved = source ? SRC_RESERVED : DST_RESERVED;
        boolean firstWorkload = true;
        op(OPEN, start, in.getTotalBytesRead());
        int old = enter(in);
        for (int s = in.getTotalBytesRead(), t; (t = in.readTag()) != 0; s = in.getTotalBytesRead()) {
            switch (t) {
                case (Endpoint.IDENTITY_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_VARINT -> {
                    int id = in.readUInt32();
                    if (source) srcIdentity = id;
                    else dstIdentity = id;
                }
                case (Endpoint.NAMESPACE_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> string(in, ns);
                case (Endpoint.POD_NAME_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> string(in, pod);
                case (Endpoint.LABELS_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
                    int o = span(in), l = in.getTotalBytesRead() - o, c = labels[side]++;
                    if (labelOff[side].length == c) {
                        labelOff[side] = Arrays.copyOf(labelOff[side], 2 * c);
                        labelLen[side] = Arrays.copyOf(labelLen[side], 2 * c);
                    }
                    labelOff[side][c] = o;
                    labelLen[side][c] = l;
                    if (len[reserved] == 0 && startsWith(o, l, RESERVED)) {
                        off[reserved] = o;
                        len[reserved] = l;
                    }
                    op(LABEL, s, in.getTotalBytesRead());
                }
                case (Endpoint.WORKLOADS_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
                    int inner = enter(in);
                    for (int w; (w = in.readTag()) != 0; ) {
                        if (firstWorkload && w == tag(Workload.NAME_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) string(in, workload);
                        else check(in, w, Shape.WORKLOAD);
                    }
                    leave(in, inner);
                    firstWorkload = false;
                    op(COPY, s, in.getTotalBytesRead());
                }
                default -> keep(in, t, s, Shape.ENDPOINT);
            }
        }
        leave(in, old);
        op(CLOSE, 0, 0);
        endpointOff[side] = start;
        endpointLen[side] = in.getTotalBytesRead() - start;
    }

    /**
     * A Policy of one of the four lists: its name, namespace and kind for the policies column, and
     * whether that value "effect:kind/namespace/name" gives it back exactly (nothing else in it, each
     * once, no '/' in kind or namespace) — then the blob keeps only an empty Policy in its place.
     */
    private void policy(CodedInputStream in, int start, int field) throws java.io.IOException {
        int i = policies++;
        if (policyList.length == i) {
            policyList = Arrays.copyOf(policyList, 2 * i);
            policySpans = Arrays.copyOf(policySpans, 2 * i);
            for (int k = i; k < 2 * i; k++) policySpans[k] = new int[6];
        }
        int list = 0;
        while (POLICY_LISTS[list] != field) list++;
        policyList[i] = list;
        int[] s = policySpans[i];
        Arrays.fill(s, 0);
        int payload = in.getTotalBytesRead(), met = 0;
        boolean plain = true;
        int old = enter(in);
        for (int t; (t = in.readTag()) != 0; ) {
            int f = WireFormat.getTagFieldNumber(t);
            int slot = f == Policy.NAME_FIELD_NUMBER ? 0 : f == Policy.NAMESPACE_FIELD_NUMBER ? 1 : f == Policy.KIND_FIELD_NUMBER ? 2 : -1;
            if (slot < 0 || WireFormat.getTagWireType(t) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                plain = false;
                check(in, t, Shape.POLICY);
                continue;
            }
            if ((met & (1 << slot)) != 0) plain = false;
            met |= 1 << slot;
            int o = span(in), l = in.getTotalBytesRead() - o;
            s[2 * slot] = o;
            s[2 * slot + 1] = l;
            if (slot > 0) for (int k = o; k < o + l; k++) if (buf[k] == '/') plain = false;
        }
        leave(in, old);
        if (plain) op(EMPTY, start, payload);
        else op(COPY, start, in.getTotalBytesRead());
    }

    /** A string's bytes (UTF-8 checked, as a parser does): returns where they start; the stream is after them. */
    private int span(CodedInputStream in) throws java.io.IOException {
        int n = in.readRawVarint32(), o = in.getTotalBytesRead();
        in.skipRawBytes(n);
        if (!ascii(buf, o, n) && !UnsafeByteOperations.unsafeWrap(buf, o, n).isValidUtf8()) throw new InvalidProtocolBufferException("Protocol message had invalid UTF-8.");
        return o;
    }

    private static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /** Whether {@code b[o, o + n)} is ASCII, eight bytes at a time (most strings of a flow are). */
    private static boolean ascii(byte[] b, int o, int n) {
        int k = o, end = o + n;
        long high = 0;
        for (; k + 8 <= end; k += 8) high |= (long) LONGS.get(b, k);
        for (; k < end; k++) high |= b[k];
        return (high & 0x8080808080808080L) == 0;
    }

    private void string(CodedInputStream in, int slot) throws java.io.IOException {
        int o = span(in);
        off[slot] = o;
        len[slot] = in.getTotalBytesRead() - o;
    }

    private boolean startsWith(int o, int n, byte[] prefix) {
        if (n < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if (buf[o + i] != prefix[i]) return false;
        return true;
    }
}
