package dev.sieve.agent.fqdn;

import java.nio.file.Path;

/**
 * The agent's toFQDNs settings, named as Cilium's flags.
 *
 * @param minTtlSeconds {@code --tofqdns-min-ttl}: a learned address lives at least this long (0, Cilium's
 *     default: the answer's TTL as it is)
 * @param maxIpsPerHostname {@code --tofqdns-endpoint-max-ip-per-hostname}: addresses kept per endpoint and name
 *     (Cilium's default 50); beyond it the ones expiring soonest go
 * @param maxEntries {@code --tofqdns-max-entries}: addresses kept over all endpoints and names (Sieve's bound on
 *     memory and map entries; default 65536); beyond it the ones expiring soonest go
 * @param rejectCode {@code --tofqdns-dns-reject-response-code}: {@code refused} (default) or {@code nameError}
 * @param stateFile where the learned cache is kept across restarts ({@code --fqdn-state-file}; default
 *     {@code /run/sieve/PIN_PREFIX/fqdn-cache.tsv}, beside the other state that lives as long as the pinned maps)
 */
public record FqdnOptions(long minTtlSeconds, int maxIpsPerHostname, int maxEntries, String rejectCode, Path stateFile) {

    public static FqdnOptions defaults(String pinPrefix) {
        return new FqdnOptions(0, 50, 65536, "refused", dev.sieve.enforcer.datapath.DatapathConfig.of(pinPrefix).stateDir().resolve("fqdn-cache.tsv"));
    }

    /** Applies one flag; false when it is not one of these. Throws IllegalArgumentException for a bad value. */
    public static FqdnOptions with(FqdnOptions o, String flag, String value) {
        return switch (flag) {
            case "--tofqdns-min-ttl" -> new FqdnOptions(nonNegative(flag, value), o.maxIpsPerHostname, o.maxEntries, o.rejectCode, o.stateFile);
            case "--tofqdns-endpoint-max-ip-per-hostname" -> new FqdnOptions(o.minTtlSeconds, (int) positive(flag, value), o.maxEntries, o.rejectCode, o.stateFile);
            case "--tofqdns-max-entries" -> new FqdnOptions(o.minTtlSeconds, o.maxIpsPerHostname, (int) positive(flag, value), o.rejectCode, o.stateFile);
            case "--tofqdns-dns-reject-response-code" -> {
                if (!value.equals("refused") && !value.equals("nameError")) throw new IllegalArgumentException(flag + " must be refused or nameError: " + value);
                yield new FqdnOptions(o.minTtlSeconds, o.maxIpsPerHostname, o.maxEntries, value, o.stateFile);
            }
            case "--fqdn-state-file" -> new FqdnOptions(o.minTtlSeconds, o.maxIpsPerHostname, o.maxEntries, o.rejectCode, Path.of(value));
            default -> null;
        };
    }

    public static boolean isFlag(String flag) {
        return flag.startsWith("--tofqdns-") || flag.equals("--fqdn-state-file");
    }

    private static long nonNegative(String flag, String v) {
        try {
            long n = Long.parseLong(v);
            if (n < 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a number of 0 or more: " + v);
        }
    }

    private static long positive(String flag, String v) {
        long n = nonNegative(flag, v);
        if (n == 0 || n > Integer.MAX_VALUE) throw new IllegalArgumentException(flag + " must be 1 or more: " + v);
        return n;
    }
}
