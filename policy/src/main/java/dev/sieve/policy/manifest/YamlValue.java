package dev.sieve.policy.manifest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * A YAML node with its field path, so every problem can be reported as {@code file:line: path: message}.
 * Type mismatches are reported through the {@link Problems} sink and read as absent values, so parsing
 * goes on and reports every error of a file in one pass.
 */
final class YamlValue {

    private final Node node;
    private final String path;
    private final Problems problems;

    YamlValue(Node node, String path, Problems problems) {
        this.node = node;
        this.path = path;
        this.problems = problems;
    }

    String path() {
        return path;
    }

    int line() {
        if (node == null) return 0;
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    /** An explicit YAML null, or a field that is not there (no node). */
    boolean isNull() {
        return node == null || node instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
    }

    boolean isMap() {
        return node instanceof MappingNode;
    }

    boolean isList() {
        return node instanceof SequenceNode;
    }

    boolean isScalar() {
        return node instanceof ScalarNode && !isNull();
    }

    boolean isIntScalar() {
        return node instanceof ScalarNode s && s.getTag().equals(Tag.INT);
    }

    void error(String message) {
        problems.add(path, line(), message);
    }

    /** Fields of a mapping in document order; reports a non-mapping. */
    Map<String, YamlValue> fields() {
        Map<String, YamlValue> out = new LinkedHashMap<>();
        if (isNull()) return out;
        if (!(node instanceof MappingNode m)) {
            error("expected an object, found " + describe());
            return out;
        }
        for (NodeTuple t : m.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                problems.add(path, line(), "field names must be strings");
                continue;
            }
            String name = k.getValue();
            String childPath = path.isEmpty() ? name : path + "." + name;
            if (out.containsKey(name)) {
                problems.add(childPath, t.getKeyNode().getStartMark().map(x -> x.getLine() + 1).orElse(0), "duplicate field");
            }
            out.put(name, new YamlValue(t.getValueNode(), childPath, problems));
        }
        return out;
    }

    /** Fields of a mapping, reporting every field not in {@code known} as unknown. */
    Map<String, YamlValue> fields(Set<String> known) {
        Map<String, YamlValue> f = fields();
        for (YamlValue v : f.values()) {
            String name = v.path.substring(v.path.lastIndexOf('.') + 1);
            if (!known.contains(name)) {
                v.error("unknown field \"" + name + "\"" + suggestion(name, known));
            }
        }
        return f;
    }

    private static String suggestion(String name, Set<String> known) {
        for (String k : known) {
            if (k.equalsIgnoreCase(name)) return " (did you mean \"" + k + "\"?)";
        }
        return "";
    }

    /** Items of a sequence; null reads as empty; reports a non-sequence. */
    List<YamlValue> items() {
        List<YamlValue> out = new ArrayList<>();
        if (isNull()) return out;
        if (!(node instanceof SequenceNode s)) {
            error("expected a list, found " + describe());
            return out;
        }
        int i = 0;
        for (Node n : s.getValue()) {
            out.add(new YamlValue(n, path + "[" + i++ + "]", problems));
        }
        return out;
    }

    /** A scalar as text; reports a non-scalar and returns null. */
    String string() {
        if (isNull()) return null;
        if (node instanceof ScalarNode s) return s.getValue();
        error("expected a string, found " + describe());
        return null;
    }

    /** A mapping of strings to strings (labels, annotations, matchLabels). */
    Map<String, String> stringMap() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, YamlValue> e : fields().entrySet()) {
            YamlValue v = e.getValue();
            if (v.isNull()) {
                out.put(e.getKey(), "");
            } else if (v.isScalar()) {
                out.put(e.getKey(), v.string());
            } else {
                v.error("expected a string value, found " + v.describe());
            }
        }
        return out;
    }

    List<String> stringList() {
        List<String> out = new ArrayList<>();
        for (YamlValue v : items()) {
            String s = v.string();
            if (s != null) out.add(s);
        }
        return out;
    }

    Boolean bool() {
        if (isNull()) return null;
        if (node instanceof ScalarNode s && s.getTag().equals(Tag.BOOL)) return Boolean.parseBoolean(s.getValue().toLowerCase());
        error("expected true or false, found " + describe());
        return null;
    }

    String describe() {
        if (node instanceof MappingNode) return "an object";
        if (node instanceof SequenceNode) return "a list";
        if (isNull()) return "null";
        return "\"" + ((ScalarNode) node).getValue() + "\"";
    }
}
