package dev.sieve.relay.query;

import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.observer.GetFlowsRequest;
import java.time.Instant;
import java.util.List;

/**
 * The relay's one query model: Hubble's FlowFilter whitelist/blacklist semantics
 * (a flow is selected when it matches at least one whitelist filter, or the whitelist is
 * empty, and no blacklist filter) plus a time range, first/last N and follow.
 *
 * <p>{@code number == 0} means "no limit" for a bounded query; {@code first} picks the oldest
 * N instead of the newest N. Results are always returned oldest first.
 */
public record FlowQuery(
    List<FlowFilter> whitelist,
    List<FlowFilter> blacklist,
    Instant since,
    Instant until,
    long number,
    boolean first,
    boolean follow) {

  public FlowQuery {
    whitelist = List.copyOf(whitelist);
    blacklist = List.copyOf(blacklist);
    if (number < 0) throw new InvalidQueryException("number must be >= 0, got " + number);
    if (since != null && until != null && until.isBefore(since))
      throw new InvalidQueryException("until " + until + " is before since " + since);
    FlowMatcher.validate(whitelist);
    FlowMatcher.validate(blacklist);
  }

  public static FlowQuery all() {
    return new FlowQuery(List.of(), List.of(), null, null, 0, false, false);
  }

  public static FlowQuery last(long n, FlowFilter... whitelist) {
    return new FlowQuery(List.of(whitelist), List.of(), null, null, n, false, false);
  }

  public FlowQuery withNumber(long n, boolean first) {
    return new FlowQuery(whitelist, blacklist, since, until, n, first, follow);
  }

  public FlowQuery withRange(Instant since, Instant until) {
    return new FlowQuery(whitelist, blacklist, since, until, number, first, follow);
  }

  public FlowQuery withBlacklist(List<FlowFilter> bl) {
    return new FlowQuery(whitelist, bl, since, until, number, first, follow);
  }

  public FlowQuery withFollow(boolean f) {
    return new FlowQuery(whitelist, blacklist, since, until, number, first, f);
  }

  /** Hubble's GetFlows request; Hubble's default when neither number, since nor follow is given is the last 20... left to callers. */
  public static FlowQuery of(GetFlowsRequest r) {
    Instant since = r.hasSince() ? Timestamps.toInstant(r.getSince()) : null;
    Instant until = r.hasUntil() ? Timestamps.toInstant(r.getUntil()) : null;
    // number is a uint64: `hubble observe --all` sends 2^64-1 (negative as a Java long), i.e. no limit
    // (0 for a bounded query; with follow, 0 would mean "no history", so the largest long)
    long number = r.getNumber() >= 0 ? r.getNumber() : r.getFollow() ? Long.MAX_VALUE : 0;
    return new FlowQuery(r.getWhitelistList(), r.getBlacklistList(), since, until, number, r.getFirst(), r.getFollow());
  }

  /** Time bounds in epoch nanoseconds, inclusive. */
  public long sinceNanos() {
    return since == null ? Long.MIN_VALUE : Timestamps.nanos(since);
  }

  public long untilNanos() {
    return until == null ? Long.MAX_VALUE : Timestamps.nanos(until);
  }
}
