package dev.sieve.cli.daemon;

import dev.sieve.cli.UsageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * The per-user folder of the CLI daemon's socket: {@code $SIEVE_CLI_SOCKET_DIR}, else {@code $XDG_RUNTIME_DIR/sieve},
 * else {@code /tmp/sieve-cli-$UID} (the native client, {@code cli/src/main/c/sieve_client.c}, decides the same way).
 * Created 0700; one owned by another user, or open to others, is refused: whoever controls it could answer in the
 * daemon's place.
 */
public final class SocketDir {
    private SocketDir() {}

    public static final String SOCKET = "sock";
    public static final String LOCK = "daemon.lock";

    public static Path resolve(Map<String, String> env) {
        String dir = env.get("SIEVE_CLI_SOCKET_DIR");
        if (dir != null && !dir.isEmpty()) return Path.of(dir);
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty()) return Path.of(xdg, "sieve");
        return Path.of("/tmp", "sieve-cli-" + uid());
    }

    static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read this process's uid: " + e.getMessage(), e);
        }
    }

    /** Creates {@code dir} (0700) if missing; refuses one that is not a folder of this user closed to others. */
    public static Path checked(Path dir) {
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (java.nio.file.FileAlreadyExistsException raced) {
                    // made meanwhile: checked below
                }
            }
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new UsageException("CLI daemon socket folder " + dir + " is not a folder: refusing it");
            }
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != uid()) {
                throw new UsageException("CLI daemon socket folder " + dir + " is owned by uid " + owner + ", not by this user (uid "
                        + uid() + "): refusing it");
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
            for (PosixFilePermission p : perms) {
                if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
                    throw new UsageException("CLI daemon socket folder " + dir + " is open to other users ("
                            + PosixFilePermissions.toString(perms) + "): refusing it");
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UsageException("CLI daemon socket folder " + dir + ": " + e.getMessage());
        }
    }
}
