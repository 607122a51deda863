package dev.sieve.policy.manifest;

import dev.sieve.policy.labels.LabelSelector;
import dev.sieve.policy.labels.Requirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/** Label selectors ({@code matchLabels} and {@code matchExpressions}) as written in manifests. */
final class Selectors {

    private static final Set<String> FIELDS = Set.of("matchLabels", "matchExpressions");
    private static final Set<String> EXPRESSION_FIELDS = Set.of("key", "operator", "values");

    private Selectors() {}

    static LabelSelector parse(YamlValue v) {
        return parse(v, UnaryOperator.identity());
    }

    /** Parses a selector, rewriting each key with {@code keyMapper} (e.g. into a namespace label key). */
    static LabelSelector parse(YamlValue v, UnaryOperator<String> keyMapper) {
        if (v == null || v.isNull()) return LabelSelector.ALL;
        Map<String, YamlValue> f = v.fields(FIELDS);
        List<Requirement> reqs = new ArrayList<>();
        if (f.containsKey("matchLabels")) {
            for (Map.Entry<String, String> e : f.get("matchLabels").stringMap().entrySet()) {
                if (e.getKey().isEmpty()) {
                    f.get("matchLabels").error("empty label key");
                    continue;
                }
                reqs.add(Requirement.of(keyMapper.apply(e.getKey()), Requirement.Operator.IN, List.of(e.getValue())));
            }
        }
        if (f.containsKey("matchExpressions")) {
            for (YamlValue ex : f.get("matchExpressions").items()) {
                Map<String, YamlValue> ef = ex.fields(EXPRESSION_FIELDS);
                String key = ef.containsKey("key") ? ef.get("key").string() : null;
                String opName = ef.containsKey("operator") ? ef.get("operator").string() : null;
                if (key == null || key.isEmpty()) {
                    ex.error("missing required field \"key\"");
                    continue;
                }
                if (opName == null) {
                    ex.error("missing required field \"operator\"");
                    continue;
                }
                Requirement.Operator op = Requirement.Operator.fromK8s(opName);
                if (op == null) {
                    ef.get("operator").error("unknown operator \"" + opName + "\" (expected In, NotIn, Exists or DoesNotExist)");
                    continue;
                }
                List<String> values = ef.containsKey("values") ? ef.get("values").stringList() : List.of();
                boolean needsValues = op == Requirement.Operator.IN || op == Requirement.Operator.NOT_IN;
                if (needsValues && values.isEmpty()) {
                    ex.error("operator " + opName + " needs at least one value");
                    continue;
                }
                if (!needsValues && !values.isEmpty()) {
                    ef.get("values").error("operator " + opName + " takes no values");
                    continue;
                }
                reqs.add(Requirement.of(keyMapper.apply(key), op, values));
            }
        }
        return new LabelSelector(reqs);
    }
}
