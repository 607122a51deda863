package dev.sieve.policy.manifest;

import dev.sieve.policy.cluster.ContainerPort;
import dev.sieve.policy.cluster.Namespace;
import dev.sieve.policy.cluster.Node;
import dev.sieve.policy.cluster.Pod;
import dev.sieve.policy.cluster.Service;
import dev.sieve.policy.cluster.ServicePort;
import dev.sieve.policy.model.Policy;
import dev.sieve.policy.model.PolicyKind;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.model.SourceRef;
import dev.sieve.policy.net.Cidr;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

/**
 * Reads Kubernetes-style manifests (multi-document YAML or JSON files, or directories of them) into a
 * {@link ManifestSet}. Every problem of every file is collected; a set with any error is rejected whole.
 */
public final class ManifestParser {

    private static final Set<String> TOP_FIELDS = Set.of("apiVersion", "kind", "metadata", "spec", "specs", "status");

    private ManifestParser() {}

    /** Loads files and directories (recursively: *.yaml, *.yml, *.json, in name order). */
    public static ManifestSet load(List<Path> paths) throws ValidationException {
        List<ValidationError> errors = Problems.newSink();
        ManifestSet out = ManifestSet.empty();
        for (Path p : paths) {
            for (Path f : expand(p, errors)) {
                try {
                    parseInto(f.toString(), Files.readString(f), out, errors);
                } catch (IOException e) {
                    errors.add(new ValidationError(f.toString(), 0, null, null, 0, "cannot read: " + e.getMessage()));
                }
            }
        }
        checkUnique(out, errors);
        if (!errors.isEmpty()) throw new ValidationException(errors);
        return out;
    }

    /** Parses one file's text; {@code name} is used in error messages. */
    public static ManifestSet parse(String name, String text) throws ValidationException {
        List<ValidationError> errors = Problems.newSink();
        ManifestSet out = ManifestSet.empty();
        parseInto(name, text, out, errors);
        checkUnique(out, errors);
        if (!errors.isEmpty()) throw new ValidationException(errors);
        return out;
    }

    private static List<Path> expand(Path p, List<ValidationError> errors) {
        if (Files.isDirectory(p)) {
            try (Stream<Path> s = Files.walk(p)) {
                return s.filter(Files::isRegularFile)
                        .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml") || f.toString().endsWith(".json"))
                        .sorted(Comparator.comparing(Path::toString))
                        .toList();
            } catch (IOException e) {
                errors.add(new ValidationError(p.toString(), 0, null, null, 0, "cannot read directory: " + e.getMessage()));
                return List.of();
            }
        }
        if (!Files.exists(p)) {
            errors.add(new ValidationError(p.toString(), 0, null, null, 0, "no such file or directory"));
            return List.of();
        }
        return List.of(p);
    }

    private static void parseInto(String file, String text, ManifestSet out, List<ValidationError> errors) {
        Problems problems = new Problems(file, errors);
        LoadSettings settings = LoadSettings.builder().setLabel(file).setAllowDuplicateKeys(true).build();
        Composer composer = new Composer(settings, new ParserImpl(settings, new StreamReader(settings, text)));
        int doc = 0;
        try {
            while (composer.hasNext()) {
                org.snakeyaml.engine.v2.nodes.Node node = composer.next();
                doc++;
                problems.document(doc, null);
                YamlValue root = new YamlValue(node, "", problems);
                if (root.isNull()) continue; // an empty document between separators
                parseObject(root, new SourceRef(file, doc), problems, out);
            }
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            errors.add(new ValidationError(file, doc + 1, null, null, line, "invalid YAML: " + e.getProblem()));
        } catch (YamlEngineException e) {
            errors.add(new ValidationError(file, doc + 1, null, null, 0, "invalid YAML: " + e.getMessage()));
        }
    }

    private static void parseObject(YamlValue root, SourceRef src, Problems problems, ManifestSet out) {
        if (!root.isMap()) {
            root.error("a manifest must be an object with apiVersion and kind, found " + root.describe());
            return;
        }
        Map<String, YamlValue> f = root.fields();
        String kind = f.containsKey("kind") ? f.get("kind").string() : null;
        String apiVersion = f.containsKey("apiVersion") ? f.get("apiVersion").string() : null;
        if (kind == null) {
            problems.add("kind", root.line(), "missing required field");
            return;
        }
        if (apiVersion == null) {
            problems.add("apiVersion", root.line(), "missing required field");
            return;
        }
        if (kind.equals("List")) { // kubectl's list wrapper
            for (YamlValue item : f.getOrDefault("items", new YamlValue(null, "items", problems)).items()) {
                parseObject(item, src, problems, out);
            }
            return;
        }
        Metadata meta = Metadata.parse(f.get("metadata"), problems, root.line());
        problems.object(kind + " " + (meta.namespace().isEmpty() ? meta.name() : meta.namespace() + "/" + meta.name()));
        PolicyKind policyKind = PolicyKind.byKind(kind);
        if (policyKind != null) {
            if (!policyKind.apiVersion.equals(apiVersion)) {
                f.get("apiVersion").error("unsupported apiVersion \"" + apiVersion + "\" for " + kind + " (expected " + policyKind.apiVersion + ")");
                return;
            }
            root.fields(TOP_FIELDS);
            Policy p = switch (policyKind) {
                case NETWORK_POLICY -> NetworkPolicyParser.parse(meta, f, src, problems);
                default -> CiliumPolicyParser.parse(policyKind, meta, f, src, problems);
            };
            if (p != null) out.policies().add(p);
            return;
        }
        if (!apiVersion.equals("v1")) {
            f.get("apiVersion").error("unsupported kind \"" + kind + "\" with apiVersion \"" + apiVersion
                    + "\" (Sieve reads CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy, Namespace, Pod, Service, Node, Endpoints)");
            return;
        }
        switch (kind) {
            case "Namespace" -> out.namespaces().add(new Namespace(meta.name(), meta.labels(), meta.annotations(), src));
            case "Pod" -> out.pods().add(parsePod(meta, f, src));
            case "Service" -> out.services().add(parseService(meta, f, src));
            case "Node" -> out.nodes().add(parseNode(meta, f, src));
            case "Endpoints" -> parseEndpoints(meta, f, out);
            default -> f.get("kind").error("unsupported kind \"" + kind
                    + "\" (Sieve reads CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy, Namespace, Pod, Service, Node, Endpoints)");
        }
    }

    private static Pod parsePod(Metadata meta, Map<String, YamlValue> f, SourceRef src) {
        String ns = meta.namespaceOrDefault();
        String node = "";
        String sa = "default";
        List<ContainerPort> ports = new ArrayList<>();
        YamlValue spec = f.get("spec");
        if (spec != null) {
            Map<String, YamlValue> s = spec.fields();
            if (s.containsKey("nodeName")) node = orEmpty(s.get("nodeName").string());
            if (s.containsKey("serviceAccountName")) sa = orEmpty(s.get("serviceAccountName").string());
            if (s.containsKey("containers")) {
                for (YamlValue c : s.get("containers").items()) {
                    YamlValue cp = c.fields().get("ports");
                    if (cp == null) continue;
                    for (YamlValue p : cp.items()) {
                        Map<String, YamlValue> pf = p.fields();
                        String name = pf.containsKey("name") ? pf.get("name").string() : null;
                        int number = pf.containsKey("containerPort") ? Ports.parseNumber(pf.get("containerPort"), 1) : -1;
                        Protocol proto = pf.containsKey("protocol") ? Ports.parseProtocol(pf.get("protocol"), false) : Protocol.TCP;
                        if (number > 0 && proto != null) ports.add(new ContainerPort(name, number, proto));
                    }
                }
            }
        }
        List<String> ips = new ArrayList<>();
        YamlValue status = f.get("status");
        if (status != null) {
            Map<String, YamlValue> st = status.fields();
            if (st.containsKey("podIP")) addIp(st.get("podIP"), ips);
            if (st.containsKey("podIPs")) {
                for (YamlValue v : st.get("podIPs").items()) {
                    YamlValue ip = v.fields().get("ip");
                    if (ip != null) addIp(ip, ips);
                }
            }
        }
        return new Pod(ns, meta.name(), meta.labels(), meta.annotations(), List.copyOf(ips), node, sa, List.copyOf(ports), src);
    }

    private static void addIp(YamlValue v, List<String> ips) {
        String s = v.string();
        if (s == null || s.isEmpty()) return;
        try {
            String canon = Cidr.formatAddress(Cidr.parseAddress(s));
            if (!ips.contains(canon)) ips.add(canon);
        } catch (IllegalArgumentException e) {
            v.error(e.getMessage());
        }
    }

    private static Service parseService(Metadata meta, Map<String, YamlValue> f, SourceRef src) {
        Map<String, String> selector = null;
        List<String> ips = new ArrayList<>();
        List<ServicePort> ports = new ArrayList<>();
        YamlValue spec = f.get("spec");
        if (spec != null) {
            Map<String, YamlValue> s = spec.fields();
            if (s.containsKey("selector") && !s.get("selector").isNull()) selector = s.get("selector").stringMap();
            if (s.containsKey("clusterIP") && !"None".equals(s.get("clusterIP").string())) addIp(s.get("clusterIP"), ips);
            if (s.containsKey("clusterIPs")) {
                for (YamlValue v : s.get("clusterIPs").items()) if (!"None".equals(v.string())) addIp(v, ips);
            }
            if (s.containsKey("ports")) {
                for (YamlValue p : s.get("ports").items()) {
                    Map<String, YamlValue> pf = p.fields();
                    String name = pf.containsKey("name") ? pf.get("name").string() : null;
                    int port = pf.containsKey("port") ? Ports.parseNumber(pf.get("port"), 1) : -1;
                    String target = pf.containsKey("targetPort") ? pf.get("targetPort").string() : String.valueOf(port);
                    Protocol proto = pf.containsKey("protocol") ? Ports.parseProtocol(pf.get("protocol"), false) : Protocol.TCP;
                    if (port > 0 && proto != null) ports.add(new ServicePort(name, port, target, proto));
                }
            }
        }
        return new Service(meta.namespaceOrDefault(), meta.name(), meta.labels(), selector, List.copyOf(ips), List.copyOf(ports), src);
    }

    private static Node parseNode(Metadata meta, Map<String, YamlValue> f, SourceRef src) {
        List<String> ips = new ArrayList<>();
        YamlValue status = f.get("status");
        if (status != null) {
            YamlValue addrs = status.fields().get("addresses");
            if (addrs != null) {
                for (YamlValue a : addrs.items()) {
                    Map<String, YamlValue> af = a.fields();
                    String type = af.containsKey("type") ? af.get("type").string() : "";
                    if (("InternalIP".equals(type) || "ExternalIP".equals(type)) && af.containsKey("address")) addIp(af.get("address"), ips);
                }
            }
        }
        return new Node(meta.name(), meta.labels(), List.copyOf(ips), src);
    }

    /** Only the endpoints of default/kubernetes matter: they are the kube-apiserver's addresses. */
    private static void parseEndpoints(Metadata meta, Map<String, YamlValue> f, ManifestSet out) {
        if (!meta.name().equals("kubernetes") || !meta.namespaceOrDefault().equals("default")) return;
        YamlValue subsets = f.get("subsets");
        if (subsets == null) return;
        for (YamlValue s : subsets.items()) {
            YamlValue addrs = s.fields().get("addresses");
            if (addrs == null) continue;
            for (YamlValue a : addrs.items()) {
                YamlValue ip = a.fields().get("ip");
                if (ip != null) addIp(ip, out.apiServerIps());
            }
        }
    }

    private static void checkUnique(ManifestSet set, List<ValidationError> errors) {
        Set<String> seen = new HashSet<>();
        for (Policy p : set.policies()) {
            if (!seen.add("policy " + p.key())) {
                errors.add(new ValidationError(p.source().file(), p.source().document(), p.key().toString(), "metadata.name", 0,
                        "duplicate: another " + p.key().kind().kind + " named \"" + p.key().displayName() + "\" was already read"));
            }
        }
        for (Pod p : set.pods()) {
            if (!seen.add("pod " + p.key())) {
                errors.add(new ValidationError(p.source().file(), p.source().document(), "Pod " + p.key(), "metadata.name", 0,
                        "duplicate: another Pod named \"" + p.key() + "\" was already read"));
            }
        }
    }

    static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
