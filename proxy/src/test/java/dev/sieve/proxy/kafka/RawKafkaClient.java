package dev.sieve.proxy.kafka;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;

/** One socket speaking Kafka's framing with kafka-clients' request and response classes, for exact cases. */
final class RawKafkaClient implements AutoCloseable {

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    RawKafkaClient(InetSocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(address, 5000);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    void send(AbstractRequest request, int correlationId) throws IOException {
        ApiKeys api = request.apiKey();
        short v = request.version();
        RequestHeaderData h = new RequestHeaderData().setRequestApiKey(api.id).setRequestApiVersion(v)
                .setCorrelationId(correlationId).setClientId("raw-test");
        ByteBuffer b = RequestUtils.serialize(h, api.requestHeaderVersion(v), request.data(), v);
        ByteBuffer framed = ByteBuffer.allocate(4 + b.remaining()).putInt(b.remaining()).put(b);
        out.write(framed.array());
        out.flush();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    record Answer(int correlationId, AbstractResponse response) {}

    Answer receive(ApiKeys api, short version) throws IOException {
        int len = in.readInt();
        byte[] body = new byte[len];
        in.readFully(body);
        ByteBuffer buf = ByteBuffer.wrap(body);
        ResponseHeader h = ResponseHeader.parse(buf, api.responseHeaderVersion(version));
        return new Answer(h.correlationId(), AbstractResponse.parseResponse(api, new ByteBufferAccessor(buf), version));
    }

    /** Whether the peer closed the connection (EOF or reset) within the socket timeout. */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
