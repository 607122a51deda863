package dev.sieve.proxy.transparent;

import dev.sieve.policy.l7.L7Rules.L7Protocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One of the node proxy's listeners: an L7 protocol and the side whose policy redirects to it (Cilium runs one
 * listener per parser type and direction). Its name ({@code http-ingress}) keys the port it got.
 */
public record ProxyListener(L7Protocol protocol, boolean ingress) {

    public String name() {
        return protocol.name().toLowerCase(Locale.ROOT) + (ingress ? "-ingress" : "-egress");
    }

    /** Every listener, in the order their ports are allocated. */
    public static List<ProxyListener> all() {
        List<ProxyListener> out = new ArrayList<>();
        for (L7Protocol p : L7Protocol.values()) {
            out.add(new ProxyListener(p, true));
            out.add(new ProxyListener(p, false));
        }
        return List.copyOf(out);
    }

    @Override
    public String toString() {
        return name();
    }
}
