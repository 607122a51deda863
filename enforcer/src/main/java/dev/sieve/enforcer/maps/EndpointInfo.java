package dev.sieve.enforcer.maps;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Value of the endpoint maps (keyed by the host-side veth ifindex); written with present = 1. */
public record EndpointInfo(int endpointId, int identity, int policyRevision,
                           boolean enforceIngress, boolean enforceEgress, boolean audit) {
    public void write(MemorySegment seg) {
        seg.set(ValueLayout.JAVA_INT, 0, endpointId);
        seg.set(ValueLayout.JAVA_INT, 4, identity);
        seg.set(ValueLayout.JAVA_INT, 8, policyRevision);
        seg.set(ValueLayout.JAVA_BYTE, 12, (byte) (enforceIngress ? 1 : 0));
        seg.set(ValueLayout.JAVA_BYTE, 13, (byte) (enforceEgress ? 1 : 0));
        seg.set(ValueLayout.JAVA_BYTE, 14, (byte) (audit ? 1 : 0));
        seg.set(ValueLayout.JAVA_BYTE, 15, (byte) 1);
    }

    public static EndpointInfo read(MemorySegment seg) {
        return new EndpointInfo(
                seg.get(ValueLayout.JAVA_INT, 0),
                seg.get(ValueLayout.JAVA_INT, 4),
                seg.get(ValueLayout.JAVA_INT, 8),
                seg.get(ValueLayout.JAVA_BYTE, 12) != 0,
                seg.get(ValueLayout.JAVA_BYTE, 13) != 0,
                seg.get(ValueLayout.JAVA_BYTE, 14) != 0);
    }

    public EndpointInfo withRevision(int revision) {
        return new EndpointInfo(endpointId, identity, revision, enforceIngress, enforceEgress, audit);
    }
}
