package dev.sieve.relay.query;

import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.flowfilter.FlowFilters;
import dev.sieve.flowfilter.GetFlowsRequests;
import dev.sieve.flowfilter.InvalidFilterException;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;

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
    try {
      FlowFilters.validate(whitelist);
      FlowFilters.validate(blacklist);
    } catch (InvalidFilterException e) {
      throw new InvalidQueryException(e.getMessage());
    }
  }

  /** The query's filters as one predicate (Hubble's semantics, {@link FlowFilters}). */
  public Predicate<Flow> matcher() {
    return FlowFilters.compile(whitelist, blacklist);
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

  /** A GetFlows request, validated as the node validates it. */
  public static FlowQuery of(GetFlowsRequest r) {
    try {
      return of(GetFlowsRequests.validate(r));
    } catch (GetFlowsRequests.InvalidRequestException e) {
      throw new InvalidQueryException(e.getMessage());
    }
  }

  /** A GetFlows request validated as the node validates it ({@link GetFlowsRequests}). */
  public static FlowQuery of(GetFlowsRequests.Valid r) {
    Instant since = r.hasSince() ? Timestamps.instant(r.sinceNanos()) : null;
    Instant until = r.hasUntil() ? Timestamps.instant(r.untilNanos()) : null;
    // `hubble observe --all` sends 2^64-1: no limit (0 for a bounded query; with follow, 0 would mean "no history")
    long number = r.number() != Long.MAX_VALUE ? r.number() : r.follow() ? Long.MAX_VALUE : 0;
    return new FlowQuery(r.whitelist(), r.blacklist(), since, until, number, r.first(), r.follow());
  }

  /** Time bounds in epoch nanoseconds, inclusive. */
  public long sinceNanos() {
    return since == null ? Long.MIN_VALUE : Timestamps.nanos(since);
  }

  public long untilNanos() {
    return until == null ? Long.MAX_VALUE : Timestamps.nanos(until);
  }
}
