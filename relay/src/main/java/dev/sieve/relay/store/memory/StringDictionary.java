package dev.sieve.relay.store.memory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Dictionary encoding for a string column: rows hold int ids; a predicate is evaluated once per distinct value. */
final class StringDictionary {
  private final Map<String, Integer> ids = new HashMap<>();
  private final List<String> values = new ArrayList<>();

  int id(String s) {
    Integer id = ids.get(s);
    if (id != null) return id;
    int n = values.size();
    values.add(s);
    ids.put(s, n);
    return n;
  }

  String value(int id) {
    return values.get(id);
  }

  int size() {
    return values.size();
  }

  /** accepted[id] for every id known now. */
  boolean[] accept(Predicate<String> p) {
    boolean[] out = new boolean[values.size()];
    for (int i = 0; i < out.length; i++) out[i] = p.test(values.get(i));
    return out;
  }
}
