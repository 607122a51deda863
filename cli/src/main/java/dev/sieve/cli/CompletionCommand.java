package dev.sieve.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sieve completion bash|zsh}: a shell completion script for every command and option. */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = "Print a shell completion script (bash or zsh) for sieve's commands and options.",
        footer = {"", "Load it in the current shell:",
                "  bash:  source <(sieve completion bash)",
                "  zsh:   source <(sieve completion zsh)",
                "or install it, e.g.  sieve completion bash > /etc/bash_completion.d/sieve"})
public final class CompletionCommand implements Callable<Integer> {

    @Parameters(paramLabel = "SHELL", description = "bash or zsh.")
    String shell;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String script = AutoComplete.bash("sieve", spec.root().commandLine());
        PrintWriter out = spec.commandLine().getOut();
        switch (shell) {
            case "bash" -> out.print(script);
            case "zsh" -> {
                // zsh runs the bash script through its bash-completion emulation
                out.println("#compdef sieve");
                out.println("autoload -U +X compinit && compinit");
                out.println("autoload -U +X bashcompinit && bashcompinit");
                out.print(script);
            }
            default -> throw new UsageException("completion " + shell + ": expected bash or zsh");
        }
        out.flush();
        return ExitCode.OK;
    }
}
