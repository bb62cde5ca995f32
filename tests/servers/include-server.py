#!/usr/bin/env python3
"""A real HTTP(S) server for the network-include tests, run as its own process on 127.0.0.1.

    include-server.py --root DIR [--vhosts] [--cert PEM --key PEM] --port-file FILE --log FILE

Serves the files under DIR (with --vhosts: under DIR/<host of the Host header>/, the layout of
runnel's --include-dir remote/ folder), and these paths for the failure cases:
  /redirect/N/PATH   302 to /redirect/N-1/PATH ... /redirect/0/PATH -> 302 to /PATH
  /loop              302 to /loop, for ever
  /to?url=URL        302 to URL (another host: tests check no credential follows)
  /hang              accepts the request and never answers
  /drip              answers 200 with a long Content-Length, then one byte per second
  /huge              answers 200 and streams zeros without end
  /status/CODE       answers CODE with a short body
  /barrier/N/PATH    serves PATH only once N barrier requests are open at the same time (a
                     client fetching them one after the other gets 503 after 20 s): proves
                     concurrency without measuring time
  /api/v4/projects/P/repository/files/F/raw[?ref=R]
                     with --api-root DIR: GitLab's raw file API over DIR/<project>/<ref or
                     HEAD>/<file> (the --include-dir project/ layout). With --token T the
                     project is private (unless named by --public P, repeatable): no token answers 404 Project Not Found (as GitLab
                     does), a PRIVATE-TOKEN or JOB-TOKEN other than T 401 Unauthorized; a
                     missing ref 404 Commit Not Found, a missing file 404 File Not Found
  /api/v4/projects/P/releases
                     with --api-root: DIR/<project>/releases.json as written by the test
                     (a JSON list of {"tag_name": ..., "upcoming_release": ...}), the same token
                     checks; a project without that file has no releases ([])
  /api/v4/version    with --version-json FILE: that file (GitLab answers 401 without a token
                     when --token is given)
  /api/v4/templates/gitlab_ci_ymls/KEY
                     with --templates DIR: {"name": KEY, "content": ...} of DIR/KEY.gitlab-ci.yml
                     for a KEY without `/` (GitLab's route takes one path segment), else 404
Anything else missing is a 404. With --delay-ms MS every answer waits that long first (the
benchmark's slowest fetch). Every request is logged to FILE as one JSON line (method,
path, host and all headers) so a test can assert what was (not) sent. The chosen port is
written to --port-file once the socket listens. Python 3 standard library only.
"""
import argparse
import json
import os
import re
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from serverlib import publish_port_and_serve

LOG_LOCK = threading.Lock()
BARRIER = threading.Condition()
BARRIER_OPEN = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."
    vhosts = False
    api_root = None
    token = None
    log_path = None
    templates = None
    public = ()
    version_json = None
    delay_ms = 0

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def record(self):
        entry = {"method": self.command, "path": self.path,
                 "headers": {k: v for k, v in self.headers.items()}}
        with LOG_LOCK, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def send_small(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, code, obj):
        self.send_small(code, json.dumps(obj).encode(), {"Content-Type": "application/json"})

    def token_refused(self, missing_code=404, missing_msg="404 Project Not Found", project=None):
        """GitLab's answers for a private project: None when the token is right."""
        if self.token is None:
            return None
        if project is not None and project in self.public:
            return None
        given = self.headers.get("PRIVATE-TOKEN") or self.headers.get("JOB-TOKEN")
        auth = self.headers.get("Authorization", "")
        if given is None and auth.startswith("Bearer "):
            given = auth[len("Bearer "):]
        if given is None:
            return (missing_code, {"message": missing_msg})
        if given != self.token:
            return (401, {"message": "401 Unauthorized"})
        return None

    def api_other(self, url):
        if url.path == "/api/v4/version" and self.version_json:
            refused = self.token_refused(401, "401 Unauthorized")
            if refused:
                self.send_json(*refused)
                return True
            with open(self.version_json, "rb") as f:
                self.send_small(200, f.read(), {"Content-Type": "application/json"})
                return True
        m = re.match(r"^/api/v4/templates/gitlab_ci_ymls/([^/]+)$", url.path)
        if m and self.templates:
            key = unquote(m.group(1))
            full = os.path.join(self.templates, key + ".gitlab-ci.yml")
            if "/" in key or not os.path.isfile(full):
                self.send_json(404, {"message": "404 Template Not Found"})
                return True
            with open(full, encoding="utf-8") as f:
                self.send_json(200, {"name": key, "content": f.read()})
                return True
        m = re.match(r"^/api/v4/projects/([^/]+)/releases$", url.path)
        if m and self.api_root:
            refused = self.token_refused()
            if refused:
                self.send_json(*refused)
                return True
            pdir = os.path.realpath(os.path.join(self.api_root, unquote(m.group(1))))
            if not pdir.startswith(os.path.realpath(self.api_root) + os.sep) or \
                    not os.path.isdir(pdir):
                self.send_json(404, {"message": "404 Project Not Found"})
                return True
            rel = os.path.join(pdir, "releases.json")
            body = open(rel, "rb").read() if os.path.isfile(rel) else b"[]"
            self.send_small(200, body, {"Content-Type": "application/json"})
            return True
        return False

    def api_file_raw(self, url):
        if self.api_other(url):
            return None
        m = re.match(r"^/api/v4/projects/([^/]+)/repository/files/([^/]+)/raw$", url.path)
        if not m or not self.api_root:
            return self.send_json(404, {"error": "404 Not Found"})
        project, file = unquote(m.group(1)), unquote(m.group(2))
        refused = self.token_refused(project=project)
        if refused:
            return self.send_json(*refused)
        if project == "g/redirect":  # elsewhere: a client with a token must not follow
            port = self.server.server_address[1]
            target = "https://localhost:%d/api/v4/projects/g%%2Fp/repository/files/d.yml/raw" % port
            return self.send_small(302, b"", {"Location": target})
        ref = parse_qs(url.query).get("ref", ["HEAD"])[0]
        pdir = os.path.realpath(os.path.join(self.api_root, project))
        if not pdir.startswith(os.path.realpath(self.api_root) + os.sep) or not os.path.isdir(pdir):
            return self.send_json(404, {"message": "404 Project Not Found"})
        rdir = os.path.realpath(os.path.join(pdir, ref))
        if not rdir.startswith(pdir + os.sep) or not os.path.isdir(rdir):
            return self.send_json(404, {"message": "404 Commit Not Found"})
        full = os.path.realpath(os.path.join(rdir, file))
        if not full.startswith(rdir + os.sep) or not os.path.isfile(full):
            return self.send_json(404, {"message": "404 File Not Found"})
        with open(full, "rb") as f:
            return self.send_small(200, f.read(), {"Content-Type": "text/plain"})

    def do_GET(self):
        self.record()
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000.0)
        url = urlsplit(self.path)
        path = url.path
        if (self.api_root or self.templates or self.version_json) and path.startswith("/api/v4/"):
            return self.api_file_raw(url)
        if path.startswith("/redirect/"):
            rest = path[len("/redirect/"):]
            n, _, target = rest.partition("/")
            n = int(n) if n.isdigit() else 0
            loc = "/" + target if n == 0 else "/redirect/%d/%s" % (n - 1, target)
            return self.send_small(302, b"", {"Location": loc})
        if path.startswith("/barrier/"):
            n, _, target = path[len("/barrier/"):].partition("/")
            with BARRIER:
                BARRIER_OPEN[0] += 1
                BARRIER.notify_all()
                met = BARRIER.wait_for(lambda: BARRIER_OPEN[0] >= int(n), timeout=20)
            if not met:
                return self.send_small(503, b"barrier not met\n")
            path = "/" + target
        if path == "/loop":
            return self.send_small(302, b"", {"Location": "/loop"})
        if path == "/to":
            target = parse_qs(url.query).get("url", ["/"])[0]
            return self.send_small(302, b"", {"Location": target})
        if path == "/hang":
            time.sleep(3600)
            return None
        if path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(100000):
                self.wfile.write(b"#")
                self.wfile.flush()
                time.sleep(1)
            return None
        if path == "/huge":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"#" * 65536
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                return None
        if path.startswith("/status/"):
            code = int(path[len("/status/"):] or 500)
            return self.send_small(code, b"status\n")
        base = os.path.realpath(self.root)
        if self.vhosts:
            host = self.headers.get("Host", "").rsplit(":", 1)[0].strip("[]")
            base = os.path.realpath(os.path.join(base, host.replace("/", "_") or "_"))
        full = os.path.realpath(os.path.join(base, path.lstrip("/")))
        if not full.startswith(base + os.sep) or not os.path.isfile(full):
            return self.send_small(404, b"404 Not Found\n")
        with open(full, "rb") as f:
            body = f.read()
        return self.send_small(200, body, {"Content-Type": "text/plain"})


class Server(ThreadingHTTPServer):
    """The TLS handshake runs in each connection's own thread (wrapping the listening socket
    would make accept() do them one after the other: concurrent clients would be served in
    turn, and the concurrency tests and the benchmark would measure the server)."""
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 drops concurrent connects (retried after 1 s)
    ssl_ctx = None

    def finish_request(self, request, client_address):
        if self.ssl_ctx is not None:
            try:
                request = self.ssl_ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a client that refused our certificate: nothing to serve
        super().finish_request(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--vhosts", action="store_true")
    ap.add_argument("--api-root")
    ap.add_argument("--token")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--templates")
    ap.add_argument("--public", action="append", default=[])
    ap.add_argument("--version-json")
    ap.add_argument("--delay-ms", type=int, default=0)
    a = ap.parse_args()
    Handler.templates = a.templates
    Handler.public = tuple(a.public)
    Handler.version_json = a.version_json
    Handler.delay_ms = a.delay_ms
    Handler.root = a.root
    Handler.vhosts = a.vhosts
    Handler.api_root = a.api_root
    Handler.token = a.token
    Handler.log_path = a.log
    srv = Server(("127.0.0.1", a.port), Handler)
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.ssl_ctx = ctx
    return publish_port_and_serve(srv, a.port_file)


if __name__ == "__main__":
    sys.exit(main())
