#!/usr/bin/env python3
"""The demo's api-server: a small real HTTP/1.1 server (keep-alive) that answers every method on every path
with a JSON echo of what it got (method, path, the client's address, the body's length and sha256; bodies with
a length or chunked), and logs who asked (with the proxy, still the client's own address). GET /slow/N streams
N chunks of 1 KiB, 100 ms apart (a response that is still flowing when something breaks).

  http_server.py [PORT...]    IPv4 and IPv6 on each port (80 by default)
"""
import hashlib
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sieve-demo-api"

    def _body(self):
        digest, n = hashlib.sha256(), 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    chunk = self.rfile.read(min(left, 65536))
                    digest.update(chunk); n += len(chunk); left -= len(chunk)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                digest.update(chunk); n += len(chunk); left -= len(chunk)
        return n, digest.hexdigest()

    def _client(self):
        a = self.client_address[0]
        return a[len("::ffff:"):] if a.startswith("::ffff:") else a

    def _answer(self):
        n, sha = self._body()
        if self.command == "GET" and self.path.startswith("/slow/"):
            return self._slow(int(self.path[len("/slow/"):]))
        out = json.dumps({"method": self.command, "path": self.path, "client": self._client(),
                          "bytes": n, "sha256": sha}).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    def _slow(self, chunks):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(chunks * 1024))
        self.end_headers()
        for _ in range(chunks):
            self.wfile.write(b"x" * 1024)
            self.wfile.flush()
            time.sleep(0.1)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _answer

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self._client(), fmt % args))
        sys.stdout.flush()


class DualStack(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class Ipv4Only(ThreadingHTTPServer):
    daemon_threads = True


def serve(port):
    try:
        server = DualStack(("::", port), Api)
    except OSError:  # no IPv6 in this namespace
        server = Ipv4Only(("0.0.0.0", port), Api)
    server.serve_forever()


if __name__ == "__main__":
    ports = [int(p) for p in sys.argv[1:]] or [80]
    for p in ports[1:]:
        threading.Thread(target=serve, args=(p,), daemon=True).start()
    serve(ports[0])
