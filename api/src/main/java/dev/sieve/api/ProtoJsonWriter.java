package dev.sieve.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.util.Base64;
import java.util.List;

/**
 * Proto3 JSON as Go's protojson writes it with {@code UseProtoNames} (what hubble prints): fields in the order the
 * .proto declares them (protobuf-java's JsonFormat sorts them by number), proto field names, defaults omitted,
 * 64-bit integers as strings, enums by name, Timestamp/Duration/wrappers/FieldMask in their JSON forms, strings
 * escaped like Go (no HTML escapes). Any, Struct, Value and ListValue are left to JsonFormat.
 */
final class ProtoJsonWriter {

    private static final JsonFormat.Printer FALLBACK = JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    private ProtoJsonWriter() {}

    static String print(Message m) {
        StringBuilder b = new StringBuilder(512);
        message(b, m);
        return b.toString();
    }

    private static void message(StringBuilder b, Message m) {
        Descriptor d = m.getDescriptorForType();
        String wkt = d.getFullName();
        if (wkt.startsWith("google.protobuf.") && wellKnown(b, m, wkt)) return;
        b.append('{');
        boolean first = true;
        for (FieldDescriptor f : d.getFields()) {
            if (f.isRepeated()) {
                if (m.getRepeatedFieldCount(f) == 0) continue;
            } else if (f.hasPresence()) {
                if (!m.hasField(f)) continue;
            } else if (isDefault(f, m.getField(f))) {
                continue;
            }
            if (!first) b.append(',');
            first = false;
            string(b, f.getName());
            b.append(':');
            if (f.isMapField()) {
                b.append('{');
                @SuppressWarnings("unchecked")
                List<Message> entries = (List<Message>) m.getField(f);
                FieldDescriptor kf = f.getMessageType().findFieldByNumber(1), vf = f.getMessageType().findFieldByNumber(2);
                for (int i = 0; i < entries.size(); i++) {
                    if (i > 0) b.append(',');
                    string(b, String.valueOf(entries.get(i).getField(kf)));
                    b.append(':');
                    value(b, vf, entries.get(i).getField(vf));
                }
                b.append('}');
            } else if (f.isRepeated()) {
                b.append('[');
                int n = m.getRepeatedFieldCount(f);
                for (int i = 0; i < n; i++) {
                    if (i > 0) b.append(',');
                    value(b, f, m.getRepeatedField(f, i));
                }
                b.append(']');
            } else {
                value(b, f, m.getField(f));
            }
        }
        b.append('}');
    }

    private static boolean isDefault(FieldDescriptor f, Object v) {
        return switch (f.getJavaType()) {
            case INT -> (Integer) v == 0;
            case LONG -> (Long) v == 0L;
            case FLOAT -> Float.floatToRawIntBits((Float) v) == 0;
            case DOUBLE -> Double.doubleToRawLongBits((Double) v) == 0;
            case BOOLEAN -> !(Boolean) v;
            case STRING -> ((String) v).isEmpty();
            case BYTE_STRING -> ((ByteString) v).isEmpty();
            case ENUM -> ((EnumValueDescriptor) v).getNumber() == 0;
            case MESSAGE -> false;
        };
    }

    private static void value(StringBuilder b, FieldDescriptor f, Object v) {
        switch (f.getType()) {
            case INT32, SINT32, SFIXED32 -> b.append((int) (Integer) v);
            case UINT32, FIXED32 -> b.append(Integer.toUnsignedString((Integer) v));
            case INT64, SINT64, SFIXED64 -> b.append('"').append((long) (Long) v).append('"');
            case UINT64, FIXED64 -> b.append('"').append(Long.toUnsignedString((Long) v)).append('"');
            case FLOAT -> number(b, (Float) v);
            case DOUBLE -> number(b, (Double) v);
            case BOOL -> b.append((boolean) (Boolean) v);
            case STRING -> string(b, (String) v);
            case BYTES -> b.append('"').append(Base64.getEncoder().encodeToString(((ByteString) v).toByteArray())).append('"');
            case ENUM -> {
                EnumValueDescriptor e = (EnumValueDescriptor) v;
                if (e.getIndex() < 0 || e.getType().findValueByNumber(e.getNumber()) == null) b.append(e.getNumber());
                else string(b, e.getName());
            }
            case MESSAGE, GROUP -> message(b, (Message) v);
        }
    }

    /** protojson's floats: shortest digits, plain notation within [1e-6, 1e21), else exponent form. */
    private static void number(StringBuilder b, float v) {
        if (Float.isNaN(v) || Float.isInfinite(v)) number(b, (double) v);
        else plainOrExponent(b, Float.toString(v), Math.abs(v), 1e21);
    }

    private static void number(StringBuilder b, double v) {
        if (Double.isNaN(v)) b.append("\"NaN\"");
        else if (Double.isInfinite(v)) b.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        else plainOrExponent(b, Double.toString(v), Math.abs(v), 1e21);
    }

    private static void plainOrExponent(StringBuilder b, String shortest, double abs, double upper) {
        java.math.BigDecimal d = new java.math.BigDecimal(shortest).stripTrailingZeros();
        if (abs == 0 || abs >= 1e-6 && abs < upper) {
            b.append(abs == 0 ? (shortest.startsWith("-") ? "-0" : "0") : d.toPlainString());
            return;
        }
        String unscaled = d.unscaledValue().abs().toString();
        int exp = unscaled.length() - 1 - d.scale();
        if (d.signum() < 0) b.append('-');
        b.append(unscaled.charAt(0));
        if (unscaled.length() > 1) b.append('.').append(unscaled, 1, unscaled.length());
        b.append('e').append(exp < 0 ? '-' : '+');
        int e = Math.abs(exp);
        if (e < 10 && exp > 0) b.append('0');
        b.append(e);
    }

    private static boolean wellKnown(StringBuilder b, Message m, String name) {
        Descriptor d = m.getDescriptorForType();
        switch (name) {
            case "google.protobuf.Timestamp" -> {
                long s = (Long) m.getField(d.findFieldByNumber(1));
                int n = (Integer) m.getField(d.findFieldByNumber(2));
                b.append('"').append(com.google.protobuf.util.Timestamps.toString(
                        com.google.protobuf.Timestamp.newBuilder().setSeconds(s).setNanos(n).build())).append('"');
                return true;
            }
            case "google.protobuf.Duration" -> {
                long s = (Long) m.getField(d.findFieldByNumber(1));
                int n = (Integer) m.getField(d.findFieldByNumber(2));
                b.append('"').append(com.google.protobuf.util.Durations.toString(
                        com.google.protobuf.Duration.newBuilder().setSeconds(s).setNanos(n).build())).append('"');
                return true;
            }
            case "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
                 "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
                 "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue" -> {
                FieldDescriptor f = d.findFieldByNumber(1);
                value(b, f, m.getField(f));
                return true;
            }
            case "google.protobuf.FieldMask" -> {
                b.append('"').append(String.join(",", com.google.protobuf.util.FieldMaskUtil.toJsonString(
                        com.google.protobuf.FieldMask.newBuilder().addAllPaths(
                                (List<String>) (List<?>) m.getField(d.findFieldByNumber(1))).build()))).append('"');
                return true;
            }
            case "google.protobuf.Any", "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue" -> {
                try {
                    b.append(HubbleJson.unescapeHtmlSafe(FALLBACK.print(m)));
                } catch (InvalidProtocolBufferException e) {
                    throw new IllegalArgumentException("cannot print " + name, e);
                }
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** A JSON string as Go's protojson escapes it: quote, backslash and control characters only. */
    static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
