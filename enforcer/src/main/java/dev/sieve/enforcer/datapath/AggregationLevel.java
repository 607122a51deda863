package dev.sieve.enforcer.datapath;

/** How much the datapath reports per connection (drops are always reported). */
public enum AggregationLevel {
    /** An event for every packet. */
    NONE,
    /** New connection, first reply, every new TCP flag per direction, close. */
    LOW,
    /** New connection, first reply, new SYN/FIN/RST per direction. */
    MEDIUM,
    /** New connection and close (FIN/RST) only. */
    MAX
}
