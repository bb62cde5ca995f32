#!/usr/bin/env python3
"""An HTTPS proxy for the network-include tests: every CONNECT, whatever host it names, is
tunnelled to 127.0.0.1:--to, so a configuration that includes https://gitlab.gnome.org/...
is served by the local test server (whose certificate names those hosts) and nothing leaves
the machine. Also checks that runnel honours https_proxy.

    connect-proxy.py --to PORT --port-file FILE --log FILE

Each CONNECT is logged as one JSON line (target and headers). Anything but CONNECT gets 405.
Python 3 standard library only.
"""
import argparse
import json
import socket
import socketserver
import sys
import threading

from serverlib import publish_port_and_serve


class Proxy(socketserver.StreamRequestHandler):
    to_port = 0
    log_path = None
    lock = threading.Lock()

    def handle(self):
        line = self.rfile.readline(65536).decode("latin-1").strip()
        headers = {}
        while True:
            h = self.rfile.readline(65536).decode("latin-1")
            if h in ("\r\n", "\n", ""):
                break
            k, _, v = h.partition(":")
            headers[k.strip()] = v.strip()
        parts = line.split()
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"request": line, "headers": headers}) + "\n")
        if len(parts) < 2 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        up = socket.create_connection(("127.0.0.1", self.to_port))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        down = self.connection

        def pump(src, dst):
            try:
                while True:
                    b = src.recv(65536)
                    if not b:
                        break
                    dst.sendall(b)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(up, down), daemon=True)
        t.start()
        pump(down, up)
        t.join()
        up.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", type=int, required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    Proxy.to_port = a.to
    Proxy.log_path = a.log
    srv = Server(("127.0.0.1", 0), Proxy)
    return publish_port_and_serve(srv, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
