package dev.sieve.relay.store.memory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * Dictionary encoding for a string column: rows hold int ids; a predicate is evaluated once per
 * distinct value. Values are looked up by their UTF-8 bytes, so a flow's columns go in without a
 * string made per row (one is made per distinct value).
 */
final class StringDictionary {
    private final List<String> values = new ArrayList<>();
    /** Whether values are strings (made once per value, for predicates and {@link #value}); false for byte keys only. */
    private final boolean strings;
    private int count;
    private byte[][] keys = new byte[16][];
    private int[] hashes = new int[16];
    /** Open addressing: id + 1 per slot, 0 = empty. */
    private int[] slots = new int[32];

    StringDictionary() {
        this(true);
    }

    StringDictionary(boolean strings) {
        this.strings = strings;
    }

    private static final java.lang.invoke.VarHandle LONG = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /** The last value looked up: many rows in a row repeat it (a node's name, a namespace). */
    private int last = -1;

    int id(byte[] b, int off, int n) {
        if (last >= 0) {
            byte[] k = keys[last];
            if (Arrays.equals(k, 0, k.length, b, off, off + n)) return last;
        }
        return last = lookup(b, off, n);
    }

    private int lookup(byte[] b, int off, int n) {
        long x = n;
        int i = off, end = off + n;
        for (; i + 8 <= end; i += 8) x = (x ^ (long) LONG.get(b, i)) * 0x9E3779B97F4A7C15L;
        for (; i < end; i++) x = (x ^ b[i]) * 0x100000001B3L;
        int h = (int) (x ^ (x >>> 29) ^ (x >>> 43));
        int mask = slots.length - 1;
        for (int slot = h & mask; ; slot = (slot + 1) & mask) {
            int e = slots[slot];
            if (e == 0) return add(Arrays.copyOfRange(b, off, off + n), h, slot);
            byte[] k = keys[e - 1];
            if (hashes[e - 1] == h && Arrays.equals(k, 0, k.length, b, off, off + n)) return e - 1;
        }
    }

    int id(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return id(b, 0, b.length);
    }

    private int add(byte[] key, int h, int slot) {
        int id = count++;
        if (strings) values.add(new String(key, StandardCharsets.UTF_8));
        if (id == keys.length) {
            keys = Arrays.copyOf(keys, 2 * id);
            hashes = Arrays.copyOf(hashes, 2 * id);
        }
        keys[id] = key;
        hashes[id] = h;
        slots[slot] = id + 1;
        if (2 * (id + 1) > slots.length) rehash();
        return id;
    }

    private void rehash() {
        slots = new int[slots.length * 2];
        int mask = slots.length - 1;
        for (int id = 0; id < count; id++) {
            int slot = hashes[id] & mask;
            while (slots[slot] != 0) slot = (slot + 1) & mask;
            slots[slot] = id + 1;
        }
    }

    String value(int id) {
        return values.get(id);
    }

    int size() {
        return count;
    }

    /** accepted[id] for every id known now. */
    boolean[] accept(Predicate<String> p) {
        boolean[] out = new boolean[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = p.test(values.get(i));
        return out;
    }
}
