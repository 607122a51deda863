package dev.sieve.cli.daemon;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The CLI daemon's wire format (big-endian), spoken by the native client {@code cli/src/main/c/sieve_client.c}.
 * Request: magic, build id, flags, working directory, argv, environment ({@code NAME=value}); strings are a u32
 * length and UTF-8 bytes. Then the client only ever closes the connection, which cancels the run. Replies: frames
 * of a type byte, a u32 length and the data: stdout, stderr, the exit code (ends the run), or "another build" (the
 * daemon is going away: run the command elsewhere).
 */
public final class Frames {
    private Frames() {}

    public static final int MAGIC = 0x53564331; // "SVC1"
    public static final int STDOUT_TERMINAL = 1, STDERR_TERMINAL = 2;
    public static final byte OUT = 'O', ERR = 'E', EXIT = 'X', OTHER_BUILD = 'B';
    static final int MAX_STRING = 1 << 20, MAX_COUNT = 1 << 16;

    public record Request(String buildId, int flags, String cwd, String[] argv, String[] env) {}

    public static Request readRequest(DataInputStream in) throws IOException {
        if (in.readInt() != MAGIC) throw new IOException("not a sieve CLI request");
        String build = readString(in);
        int flags = in.readInt();
        String cwd = readString(in);
        String[] argv = readStrings(in);
        String[] env = readStrings(in);
        return new Request(build, flags, cwd, argv, env);
    }

    public static void writeRequest(DataOutputStream out, Request r) throws IOException {
        out.writeInt(MAGIC);
        writeString(out, r.buildId());
        out.writeInt(r.flags());
        writeString(out, r.cwd());
        out.writeInt(r.argv().length);
        for (String a : r.argv()) writeString(out, a);
        out.writeInt(r.env().length);
        for (String e : r.env()) writeString(out, e);
        out.flush();
    }

    private static String[] readStrings(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_COUNT) throw new IOException("bad count " + n);
        String[] s = new String[n];
        for (int i = 0; i < n; i++) s[i] = readString(in);
        return s;
    }

    private static String readString(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_STRING) throw new IOException("bad string length " + n);
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }
}
