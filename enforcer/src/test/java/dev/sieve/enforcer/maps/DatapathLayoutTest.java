package dev.sieve.enforcer.maps;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java mirrors in {@link MapLayouts} must equal the C structs, as recorded in the BTF of
 * the compiled object: same member names in the same order, same offsets and sizes, same total
 * size. A change on one side only fails the build here.
 */
class DatapathLayoutTest {
    private static final Pattern TYPE = Pattern.compile("^\\[(\\d+)] (\\w+) '([^']*)'(.*)$");
    private static final Pattern MEMBER = Pattern.compile("^\\s+'([^']*)' type_id=(\\d+) bits_offset=(\\d+)");
    private static final Pattern ATTR = Pattern.compile("(\\w+)=([\\w()]+)");

    record BtfType(String kind, String name, Map<String, String> attrs, List<String[]> members) {}

    private static final Map<Integer, BtfType> types = new HashMap<>();

    @BeforeAll
    static void readBtf() throws IOException, InterruptedException {
        Path obj = Path.of("target/classes/bpf/sieve.bpf.o");
        assumeTrue(Files.exists(obj), "no compiled BPF object at " + obj.toAbsolutePath());
        Process p;
        try {
            p = new ProcessBuilder("bpftool", "btf", "dump", "file", obj.toString(), "format", "raw").start();
        } catch (IOException e) {
            assumeTrue(false, "bpftool is not installed: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("bpftool btf dump").isZero();
        BtfType current = null;
        for (String line : out.split("\n")) {
            Matcher t = TYPE.matcher(line);
            Matcher m = MEMBER.matcher(line);
            if (t.matches()) {
                Map<String, String> attrs = new HashMap<>();
                Matcher a = ATTR.matcher(t.group(4));
                while (a.find()) {
                    attrs.put(a.group(1), a.group(2));
                }
                current = new BtfType(t.group(2), t.group(3), attrs, new ArrayList<>());
                types.put(Integer.parseInt(t.group(1)), current);
            } else if (m.find() && current != null) {
                current.members().add(new String[] {m.group(1), m.group(2), m.group(3)});
            }
        }
    }

    private static long sizeOf(int id) {
        BtfType t = types.get(id);
        return switch (t.kind()) {
            case "INT", "STRUCT", "UNION", "ENUM" -> Long.parseLong(t.attrs().get("size"));
            case "TYPEDEF", "CONST", "VOLATILE" -> sizeOf(Integer.parseInt(t.attrs().get("type_id")));
            case "ARRAY" -> Long.parseLong(t.attrs().get("nr_elems")) * sizeOf(Integer.parseInt(t.attrs().get("type_id")));
            case "PTR" -> 8;
            default -> throw new IllegalStateException("size of BTF kind " + t.kind());
        };
    }

    private static BtfType struct(String name) {
        return types.values().stream().filter(t -> t.kind().equals("STRUCT") && t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("struct " + name + " is not in the object's BTF"));
    }

    @Test
    void everyJavaLayoutMatchesItsCStruct() {
        MapLayouts.ALL.forEach((name, layout) -> {
            BtfType c = struct(name);
            assertThat(layout.byteSize()).as(name + " size").isEqualTo(Long.parseLong(c.attrs().get("size")));
            List<String> cMembers = new ArrayList<>();
            for (String[] m : c.members()) {
                cMembers.add(m[0] + "@" + Long.parseLong(m[2]) / 8 + ":" + sizeOf(Integer.parseInt(m[1])));
            }
            assertThat(javaMembers(layout)).as(name + " members (name@offset:size)").isEqualTo(cMembers);
        });
    }

    @Test
    void theObjectDefinesNoMirroredStructTheJavaSideMisses() {
        for (String name : List.of("ipcache_key", "ipcache_value", "policy_key", "policy_value", "endpoint_info",
                "ct_key", "ct_value", "metrics_value", "config_value", "verdict_event")) {
            struct(name);
            assertThat(MapLayouts.ALL).containsKey(name);
        }
    }

    private static List<String> javaMembers(StructLayout layout) {
        List<String> result = new ArrayList<>();
        long offset = 0;
        for (MemoryLayout m : layout.memberLayouts()) {
            if (m.name().isPresent()) {
                result.add(m.name().get() + "@" + offset + ":" + m.byteSize());
            }
            offset += m.byteSize();
        }
        return result;
    }
}
