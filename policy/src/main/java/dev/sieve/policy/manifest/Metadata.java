package dev.sieve.policy.manifest;

import java.util.Map;
import java.util.regex.Pattern;

/** The metadata block every object has; only what Sieve uses is kept. */
record Metadata(String name, String namespace, Map<String, String> labels, Map<String, String> annotations,
                YamlValue namespaceValue) {

    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

    String namespaceOrDefault() {
        return namespace.isEmpty() ? "default" : namespace;
    }

    static Metadata parse(YamlValue v, Problems problems, int line) {
        if (v == null || v.isNull()) {
            problems.add("metadata", line, "missing required field");
            return new Metadata("", "", Map.of(), Map.of(), null);
        }
        Map<String, YamlValue> f = v.fields();
        String name = f.containsKey("name") ? f.get("name").string() : null;
        if (name == null || name.isEmpty()) {
            problems.add("metadata.name", v.line(), "missing required field");
            name = "";
        } else if (!DNS_SUBDOMAIN.matcher(name).matches()) {
            f.get("name").error("invalid name \"" + name + "\": must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit");
        }
        String ns = f.containsKey("namespace") ? ManifestParser.orEmpty(f.get("namespace").string()) : "";
        Map<String, String> labels = f.containsKey("labels") ? f.get("labels").stringMap() : Map.of();
        Map<String, String> annotations = f.containsKey("annotations") ? f.get("annotations").stringMap() : Map.of();
        return new Metadata(name, ns, labels, annotations, f.get("namespace"));
    }
}
