# Lab echo server: TCP and UDP on every port given, IPv4 and IPv6. TCP echoes each connection's
# bytes until the peer closes; UDP echoes each datagram. Prints "ready" once every socket listens.
import selectors, socket, sys, threading

ports = [int(p) for p in sys.argv[1:]]
sel = selectors.DefaultSelector()
for port in ports:
    for fam in (socket.AF_INET, socket.AF_INET6):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(fam, kind)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", port))
            if kind == socket.SOCK_STREAM:
                s.listen(256)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, kind)

def serve(c):
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
    except OSError:
        pass
    finally:
        c.close()

print("ready", flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        try:
            if key.data == socket.SOCK_STREAM:
                c, _ = s.accept()
                c.setblocking(True)
                threading.Thread(target=serve, args=(c,), daemon=True).start()
            else:
                d, a = s.recvfrom(65536)
                s.sendto(d, a)
        except OSError:
            pass
