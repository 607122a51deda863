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

    /**
     * Prints {@code message} as a single line of JSON, byte for byte as hubble does: fields in the .proto's
     * declaration order (Go's protojson), not protobuf-java's field-number order.
     */
    public static String print(Message message) {
        return ProtoJsonWriter.print(message);
    }

    /** Parses {@code json} into {@code builder} and returns it. */
    public static <B extends Message.Builder> B merge(String json, B builder) throws InvalidProtocolBufferException {
        PARSER.merge(json, builder);
        return builder;
    }

    /**
     * protobuf-java escapes {@code = < > & '} as a backslash, 'u' and four hex digits (HTML-safe JSON); Hubble's Go
     * encoder prints them as they are ({@code "k8s:app=frontend"}). Undoes exactly those escapes, leaving an
     * escaped backslash followed by the text u003d alone.
     */
    static String unescapeHtmlSafe(String json) {
        if (json.indexOf("\\u00") < 0) return json;
        StringBuilder out = new StringBuilder(json.length());
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c != '\\' || i + 1 >= json.length()) {
                out.append(c);
                continue;
            }
            if (json.charAt(i + 1) == 'u' && i + 5 < json.length()) {
                char plain = switch (json.substring(i + 2, i + 6)) {
                    case "003d" -> '=';
                    case "003c" -> '<';
                    case "003e" -> '>';
                    case "0026" -> '&';
                    case "0027" -> '\'';
                    default -> 0;
                };
                if (plain != 0) {
                    out.append(plain);
                    i += 5;
                    continue;
                }
            }
            out.append(c).append(json.charAt(i + 1)); // any other escape, including an escaped backslash
            i++;
        }
        return out.toString();
    }
}
