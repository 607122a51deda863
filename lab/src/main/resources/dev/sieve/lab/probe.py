# Lab probe: probe.py tcp|udp HOST PORT TIMEOUT_S
# tcp: connect, send a line, expect it back. udp: send a datagram, expect it echoed.
# Exit 0 = exchange done, 1 = timed out (dropped), 2 = refused / unreachable.
import socket, sys

kind, host, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
s.settimeout(timeout)
try:
    if kind == "tcp":
        s.connect((host, port))
        s.sendall(b"sieve\n")
        ok = s.recv(16).startswith(b"sieve")
    else:
        s.connect((host, port))
        s.send(b"sieve")
        ok = s.recv(16) == b"sieve"
    sys.exit(0 if ok else 2)
except socket.timeout:
    sys.exit(1)
except OSError:
    sys.exit(2)
