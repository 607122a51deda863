package dev.sieve.proxy.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Kafka's length-prefixed frames, each passed on whole with its prefix (a forwarded frame leaves exactly as it
 * came). A frame wholly inside one read is passed on as a slice of that read, without a copy; only a frame split
 * across reads is gathered, into one buffer sized from its prefix (up to {@code upfront}, then grown), so a
 * frame is copied at most once.
 *
 * <p>A peer that stops in the middle of a frame for {@code stall} is cut off with a {@link FrameStallException}:
 * without it, a client could hold a connection and its partial frame (up to the frame bound) forever.
 */
final class KafkaFrames extends ChannelInboundHandlerAdapter {

    /** A peer stopped sending in the middle of a frame. */
    static final class FrameStallException extends DecoderException {
        FrameStallException(String message) {
            super(message);
        }
    }

    private final int maxFrame;
    private final int upfront;
    private final long stallNanos;
    private final byte[] prefix = new byte[4];
    private int prefixBytes;
    /** The frame being gathered (prefix included), and its whole size. */
    private ByteBuf partial;
    private int partialSize;
    private long lastProgress;
    private ScheduledFuture<?> stallCheck;

    /**
     * @param maxFrame the largest frame accepted, prefix excluded
     * @param upfront the most allocated for a split frame before its bytes arrive
     * @param stallNanos how long a frame may go without a byte before the connection is cut off; 0: never
     */
    KafkaFrames(int maxFrame, int upfront, long stallNanos) {
        this.maxFrame = maxFrame;
        this.upfront = upfront;
        this.stallNanos = stallNanos;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            lastProgress = System.nanoTime();
            while (in.isReadable()) {
                if (partial != null) {
                    partial.writeBytes(in, Math.min(in.readableBytes(), partialSize - partial.writerIndex()));
                    if (partial.writerIndex() == partialSize) {
                        ByteBuf frame = partial;
                        partial = null;
                        ctx.fireChannelRead(frame);
                    }
                } else if (prefixBytes > 0 || in.readableBytes() < 4) {
                    while (prefixBytes < 4 && in.isReadable()) prefix[prefixBytes++] = in.readByte();
                    if (prefixBytes == 4) {
                        prefixBytes = 0;
                        startPartial(ctx, length((prefix[0] & 0xff) << 24 | (prefix[1] & 0xff) << 16
                                | (prefix[2] & 0xff) << 8 | (prefix[3] & 0xff)));
                    }
                } else {
                    int length = length(in.getInt(in.readerIndex()));
                    if (in.readableBytes() >= 4 + length) {
                        ctx.fireChannelRead(in.readRetainedSlice(4 + length));
                    } else {
                        in.skipBytes(4);
                        startPartial(ctx, length);
                    }
                }
            }
        } finally {
            in.release();
        }
        if (midFrame()) armStallCheck(ctx);
    }

    private int length(int length) {
        if (length < 0) throw new CorruptedFrameException("negative frame length " + length);
        if (length > maxFrame) throw new TooLongFrameException("frame length " + length + " exceeds " + maxFrame);
        return length;
    }

    private void startPartial(ChannelHandlerContext ctx, int length) {
        partialSize = 4 + length;
        partial = ctx.alloc().directBuffer(Math.min(partialSize, upfront), partialSize);
        partial.writeInt(length);
    }

    private boolean midFrame() {
        return partial != null || prefixBytes > 0;
    }

    private void armStallCheck(ChannelHandlerContext ctx) {
        if (stallNanos <= 0 || stallCheck != null) return;
        stallCheck = ctx.executor().schedule(() -> checkStall(ctx), stallNanos, TimeUnit.NANOSECONDS);
    }

    private void checkStall(ChannelHandlerContext ctx) {
        stallCheck = null;
        if (!midFrame() || !ctx.channel().isActive()) return;
        long idle = System.nanoTime() - lastProgress;
        if (idle >= stallNanos) {
            ctx.fireExceptionCaught(new FrameStallException("no byte for " + TimeUnit.NANOSECONDS.toMillis(idle)
                    + " ms in the middle of a frame"));
        } else {
            stallCheck = ctx.executor().schedule(() -> checkStall(ctx), stallNanos - idle, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (stallCheck != null) stallCheck.cancel(false);
        stallCheck = null;
        if (partial != null) partial.release();
        partial = null;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        handlerRemoved(ctx);
        ctx.fireChannelInactive();
    }
}
