package dev.sieve.flowfilter;

import com.google.protobuf.FieldMask;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.FieldMaskUtil;
import com.google.protobuf.util.Timestamps;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.observer.GetFlowsRequest;
import java.util.List;
import java.util.function.Predicate;

/**
 * Validation of Observer.GetFlows requests, one for the node and the relay, with Hubble's behaviour: since and
 * until valid timestamps with since not after until; {@code first} not combined with {@code follow}; a field mask
 * ({@code field_mask}, or {@code experimental.field_mask} from older clients) whose every path names a field of
 * {@code flow.Flow}; filters as {@link FlowFilters} understands them. Problems throw {@link InvalidRequestException}.
 */
public final class GetFlowsRequests {

    private GetFlowsRequests() {}

    /**
     * A validated request. {@code number} is the request's uint64 count, clamped to {@link Long#MAX_VALUE}
     * ({@code hubble observe --all} sends 2^64-1); since/until in epoch nanoseconds, open ends as
     * {@link Long#MIN_VALUE}/{@link Long#MAX_VALUE}; {@code fieldMask} null when the request asks for whole flows.
     */
    public record Valid(List<FlowFilter> whitelist, List<FlowFilter> blacklist, Predicate<Flow> filter, long number,
                        boolean first, boolean follow, long sinceNanos, long untilNanos, FieldMask fieldMask) {

        public boolean hasSince() {
            return sinceNanos != Long.MIN_VALUE;
        }

        public boolean hasUntil() {
            return untilNanos != Long.MAX_VALUE;
        }

        /** The flow as the request's field mask shapes it. */
        public Flow shape(Flow f) {
            if (fieldMask == null) return f;
            Flow.Builder b = Flow.newBuilder();
            FieldMaskUtil.merge(fieldMask, f, b);
            return b.build();
        }
    }

    /** A GetFlows request that cannot be served as asked; the message says what is wrong. */
    public static final class InvalidRequestException extends IllegalArgumentException {
        public InvalidRequestException(String message) {
            super(message);
        }
    }

    public static Valid validate(GetFlowsRequest req) {
        long since = req.hasSince() ? nanos("since", req.getSince()) : Long.MIN_VALUE;
        long until = req.hasUntil() ? nanos("until", req.getUntil()) : Long.MAX_VALUE;
        if (since > until) {
            throw new InvalidRequestException("since (" + Timestamps.toString(req.getSince()) + ") is after until ("
                    + Timestamps.toString(req.getUntil()) + ")");
        }
        if (req.getFirst() && req.getFollow()) throw new InvalidRequestException("first cannot be specified with follow");
        if (req.getFirst() && req.getNumber() == 0 && !req.hasSince()) throw new InvalidRequestException("first needs number > 0 or since");
        FieldMask mask = req.hasFieldMask() ? req.getFieldMask()
                : req.getExperimental().hasFieldMask() ? req.getExperimental().getFieldMask() : null;
        if (mask != null && mask.getPathsCount() > 0) {
            for (String path : mask.getPathsList()) {
                if (!FieldMaskUtil.isValid(Flow.class, path)) {
                    throw new InvalidRequestException("invalid field mask: path \"" + path + "\" names no field of flow.Flow");
                }
            }
        } else {
            mask = null;
        }
        Predicate<Flow> filter;
        try {
            filter = FlowFilters.compile(req.getWhitelistList(), req.getBlacklistList());
        } catch (InvalidFilterException e) {
            throw new InvalidRequestException(e.getMessage());
        }
        long number = req.getNumber() < 0 ? Long.MAX_VALUE : req.getNumber();
        return new Valid(List.copyOf(req.getWhitelistList()), List.copyOf(req.getBlacklistList()), filter, number,
                req.getFirst(), req.getFollow(), since, until, mask);
    }

    private static long nanos(String field, Timestamp t) {
        if (!Timestamps.isValid(t)) throw new InvalidRequestException(field + " is not a valid timestamp");
        return t.getSeconds() * 1_000_000_000L + t.getNanos();
    }
}
