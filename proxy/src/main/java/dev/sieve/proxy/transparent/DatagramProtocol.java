package dev.sieve.proxy.transparent;

/**
 * An L7 protocol over UDP (DNS): handles each datagram the datapath redirected to the proxy. Called on the
 * listener's event loop; must not block. The datagram's content is released after the call returns, so a
 * protocol that keeps it retains it.
 */
@FunctionalInterface
public interface DatagramProtocol {

    void received(RedirectedDatagram datagram);
}
