package dev.sieve.enforcer.maps;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A value of the policy map: the action for the key's traffic and the rule that asked for it. */
public record PolicyValue(Action action, int ruleId, int proxyPort) {
    public PolicyValue {
        if (proxyPort < 0 || proxyPort > 65535) {
            throw new IllegalArgumentException("proxy port out of range: " + proxyPort);
        }
        if (action != Action.REDIRECT && proxyPort != 0) {
            throw new IllegalArgumentException("proxy port given for " + action);
        }
    }

    public void write(MemorySegment seg) {
        seg.set(ValueLayout.JAVA_INT, 0, ruleId);
        seg.set(ValueLayout.JAVA_SHORT, 4, (short) proxyPort);
        seg.set(ValueLayout.JAVA_BYTE, 6, (byte) action.code());
        seg.set(ValueLayout.JAVA_BYTE, 7, (byte) 0);
    }

    public static PolicyValue read(MemorySegment seg) {
        return new PolicyValue(Action.of(seg.get(ValueLayout.JAVA_BYTE, 6)),
                seg.get(ValueLayout.JAVA_INT, 0),
                Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT, 4)));
    }
}
