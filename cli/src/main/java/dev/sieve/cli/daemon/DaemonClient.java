package dev.sieve.cli.daemon;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** The daemon's protocol from Java: {@code sieve daemon status|stop} on the plain JVM path, and tests. */
public final class DaemonClient {
    private DaemonClient() {}

    /** What a run answered; {@code exitCode} -1: the daemon left without one (or said it is of another build). */
    public record Reply(int exitCode, String out, String err, boolean otherBuild) {}

    /** null: no daemon listens in {@code dir}. */
    public static Reply call(Path dir, Frames.Request request) throws IOException {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve(SocketDir.SOCKET)));
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
        try (ch) {
            Frames.writeRequest(new DataOutputStream(Channels.newOutputStream(ch)), request);
            DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            while (true) {
                int type;
                try {
                    type = in.readUnsignedByte();
                } catch (EOFException e) {
                    return new Reply(-1, out.toString(), err.toString(), false);
                }
                byte[] data = in.readNBytes(in.readInt());
                switch (type) {
                    case Frames.OUT -> out.write(data);
                    case Frames.ERR -> err.write(data);
                    case Frames.EXIT -> {
                        return new Reply(java.nio.ByteBuffer.wrap(data).getInt(), out.toString(), err.toString(), false);
                    }
                    case Frames.OTHER_BUILD -> {
                        return new Reply(-1, out.toString(), err.toString(), true);
                    }
                    default -> throw new IOException("unknown frame type " + type);
                }
            }
        }
    }
}
