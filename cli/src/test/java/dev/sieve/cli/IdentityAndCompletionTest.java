package dev.sieve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code sieve identity list -f} (golden output), {@code sieve completion}, and --help on every command. */
class IdentityAndCompletionTest {

    static final Path REPO = Path.of(System.getProperty("sieve.repo.dir", "..")).toAbsolutePath().normalize();

    record Run(int code, String out, String err) {}

    static Run sieve(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"table", "json"})
    void identityListFromManifestsMatchesItsGoldenFile(String format) throws Exception {
        Run r = sieve("identity", "list", "-f", REPO.resolve("examples").toString(), "-o", format);
        assertThat(r.err()).isEmpty();
        assertThat(r.code()).isZero();
        ObserveCommandTest.golden("identity-list-examples-" + format + ".txt", r.out());
    }

    @Test
    void identityListCoversReservedClusterAndCidrIdentitiesSortedById() {
        Run r = sieve("identity", "list", "-f", REPO.resolve("examples").toString(), "-o", "json");
        var lines = r.out().lines().toList();
        assertThat(lines.getFirst()).isEqualTo("{\"id\":1,\"labels\":[\"reserved:host\"],\"endpoints\":[]}");
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("\"endpoints\":[\"production/frontend\"]"));
        assertThat(lines.getLast()).startsWith("{\"id\":16777218,").contains("cidr:");
        var ids = lines.stream().map(l -> Long.parseLong(l.substring(6, l.indexOf(',')))).toList();
        assertThat(ids).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void identityListBadInputIsExit2(@TempDir Path dir) throws Exception {
        Run both = sieve("identity", "list", "-f", "x.yaml", "--server", "localhost:1");
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).isEqualTo("sieve: give either -f PATH... (manifests) or --server HOST:PORT, not both\n");
        Run fmt = sieve("identity", "list", "-f", REPO.resolve("examples").toString(), "-o", "yaml");
        assertThat(fmt.code()).isEqualTo(2);
        assertThat(fmt.err()).isEqualTo("sieve: -o yaml: expected table or json\n");
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "apiVersion: v1\nkind: Pod\nmetadata: {}\n");
        Run invalid = sieve("identity", "list", "-f", bad.toString());
        assertThat(invalid.code()).isEqualTo(2);
        assertThat(invalid.err()).contains(bad.toString()).contains("error(s)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bash", "zsh"})
    void completionScriptMentionsEverySubcommand(String shell) {
        Run r = sieve("completion", shell);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("complete -F", "_picocli_sieve")
                .contains("policy", "observe", "status", "nodes", "identity", "lab", "completion")
                .contains("validate", "trace", "list", "--verdict", "--from-pod");
        if (shell.equals("zsh")) assertThat(r.out()).startsWith("#compdef sieve\n").contains("bashcompinit");
    }

    @Test
    void completionNeedsAKnownShell() {
        Run r = sieve("completion", "fish");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("sieve: completion fish: expected bash or zsh\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "policy", "policy validate", "policy trace", "observe", "status", "nodes", "identity",
            "identity list", "lab", "completion"})
    void helpEverywhere(String command) {
        String[] args = (command + " --help").trim().split(" ");
        Run r = sieve(args);
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("Usage: sieve" + (command.isEmpty() ? "" : " " + command));
        if (command.isEmpty()) assertThat(r.out()).contains("identity", "completion", "Exit codes: 0", "sieve completion bash");
    }

    @Test
    void helpSubcommandKnowsEveryCommand() {
        Run r = sieve("help", "identity");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("Usage: sieve identity");
    }
}
