package dev.sieve.relay.tls;

import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import dev.sieve.tls.PeerName;
import dev.sieve.tls.ReloadingTrustManager;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Per call: ingest needs a node certificate (of the ingest CAs) when they are configured, and the node may push only
 * as the certificate's name ({@link #NODE}); every other service needs an Observer client certificate (of the client
 * CAs) when those are configured. A missing or wrong certificate ends the call UNAUTHENTICATED.
 */
public class PeerAuthentication implements ServerInterceptor {
    /** The node name the caller's certificate speaks for (ingest with client certificates), else unset. */
    public static final Context.Key<String> NODE = Context.key("sieve-authenticated-node");

    private final RelayTls tls;

    public PeerAuthentication(RelayTls tls) {
        this.tls = tls;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        RelayTls.Material m = tls.material();
        boolean ingest = FlowIngestGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName());
        ReloadingTrustManager required = ingest ? m.ingestClients() : m.observerClients();
        if (required == null) return next.startCall(call, headers);
        X509Certificate[] chain = chain(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        String who = ingest ? "a node" : "an Observer client";
        if (chain == null) return refuse(call, who + " must present a client certificate");
        try {
            required.checkClient(chain);
        } catch (CertificateException e) {
            return refuse(call, who + " must present a certificate issued by " + required.files() + " (" + chain[0].getSubjectX500Principal() + " is not)");
        }
        if (!ingest) return next.startCall(call, headers);
        String node = PeerName.of(chain[0]);
        if (node == null || node.isEmpty()) return refuse(call, "the node's certificate names no node (subject CN)");
        return Contexts.interceptCall(Context.current().withValue(NODE, node), call, headers, next);
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String why) {
        call.close(Status.UNAUTHENTICATED.withDescription(why), new Metadata());
        return new ServerCall.Listener<>() {};
    }

    private static X509Certificate[] chain(SSLSession s) {
        if (s == null) return null;
        try {
            Certificate[] certs = s.getPeerCertificates();
            X509Certificate[] out = new X509Certificate[certs.length];
            for (int i = 0; i < certs.length; i++) out[i] = (X509Certificate) certs[i];
            return out.length == 0 ? null : out;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}
