package dev.sieve.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

/**
 * JSON in the shape Hubble prints and reads ({@code hubble observe -o jsonpb}): protobuf JSON
 * with the original proto field names ({@code node_name}, {@code drop_reason_desc}, {@code IP})
 * rather than lowerCamelCase, enums as names, default values omitted, one object per line.
 */
public final class HubbleJson {

    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private HubbleJson() {}

    /** The shared printer: proto field names, compact, defaults omitted. */
    public static JsonFormat.Printer printer() {
        return PRINTER;
    }

    /** The shared parser: accepts proto or camelCase names and ignores fields it does not know. */
    public static JsonFormat.Parser parser() {
        return PARSER;
    }

    /** Prints {@code message} as a single line of JSON. */
    public static String print(Message message) {
        try {
            return PRINTER.print(message);
        } catch (InvalidProtocolBufferException e) {
            // Only possible for Any fields whose type is not registered.
            throw new IllegalArgumentException("cannot print " + message.getDescriptorForType().getFullName(), e);
        }
    }

    /** Parses {@code json} into {@code builder} and returns it. */
    public static <B extends Message.Builder> B merge(String json, B builder) throws InvalidProtocolBufferException {
        PARSER.merge(json, builder);
        return builder;
    }
}
