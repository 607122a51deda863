package dev.sieve.cli.policy;

import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationError;
import dev.sieve.policy.manifest.ValidationException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sieve policy validate PATH...}: exit 0 when every manifest is valid, 2 with every error otherwise. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check policy and cluster manifests (files or directories). Exit 0 when valid, 2 with the errors otherwise.")
public final class ValidateCommand implements Callable<Integer> {

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "YAML/JSON files or directories (read recursively).")
    List<Path> paths;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try {
            ManifestSet set = ManifestParser.load(paths);
            spec.commandLine().getOut().printf("valid: %d policies (%d rules), %d namespaces, %d pods, %d services, %d nodes%n",
                    set.policies().size(), set.policies().stream().mapToInt(p -> p.rules().size()).sum(),
                    set.namespaces().size(), set.pods().size(), set.services().size(), set.nodes().size());
            return ExitCode.OK;
        } catch (ValidationException e) {
            var err = spec.commandLine().getErr();
            for (ValidationError ve : e.errors()) err.println(ve);
            err.printf("%d error(s): the set is invalid and would not be applied%n", e.errors().size());
            return ExitCode.USAGE;
        }
    }
}
