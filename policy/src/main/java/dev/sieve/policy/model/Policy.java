package dev.sieve.policy.model;

import java.util.List;

/** A policy object as read from a manifest: its key, where it came from, and its rules. */
public record Policy(PolicyKey key, SourceRef source, List<Rule> rules) {}
