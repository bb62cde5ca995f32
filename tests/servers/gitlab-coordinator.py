#!/usr/bin/env python3
"""A stand-in for GitLab's runner API (/api/v4), for runnel's runner-mode tests.

Written from ../shared/spec/runner-api.md and GitLab's public API description: it behaves as
GitLab's coordinator does towards a runner (registration, token checks, the job queue with long
polling and X-GitLab-Last-Update, the incremental trace with Content-Range continuity, the final
state with its crc32 checksum) and checks every request it gets. What it finds wrong goes to the
"problems" list the test reads. Faults are injected with --fault or POST /_control/fault.

Usage:
  gitlab-coordinator.py --state-dir DIR [--port N] [--tls-cert C --tls-key K]
      [--runner-token T]... [--registration-token T] [--job FILE]... [--long-poll S]
      [--fault NAME[=N]]...
It writes DIR/port once listening, appends every request to DIR/requests.log (JSON lines) and
serves the control API on the same port under /_control/ (no authentication: 127.0.0.1 only):
  GET  /_control/state             jobs, runners, problems
  POST /_control/enqueue           body: a job payload (JSON); answers {"id": N}
  POST /_control/fault?name=X&n=N  arm a fault (n times; default 1)
  POST /_control/revoke?token=T    revoke a runner or job token
  POST /_control/cancel?id=N[&status=canceling|canceled]
Faults: request-409, request-503, accept-409, trace-416, finish-202, drop (close the
connection without answering), hang-poll (hold POST /jobs/request for an hour).
"""
import argparse
import binascii
import json
import os
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from serverlib import publish_port_and_serve

LOCK = threading.Condition()
STATE = {
    "runners": {},          # token -> {id, description, tags, system_ids:[]}
    "registration": None,   # the legacy registration token
    "revoked": set(),
    "jobs": [],             # dicts: id, token, payload, status, trace(bytes), final, runner
    "queue_version": 1,
    "faults": {},           # name -> remaining count
    "problems": [],
    "next_runner_id": 100,
    "next_job_id": 1000,
}
ARGS = None


def problem(text):
    STATE["problems"].append(text)


def take_fault(name):
    n = STATE["faults"].get(name, 0)
    if n > 0:
        STATE["faults"][name] = n - 1
        return True
    return False


def add_job(payload):
    job_id = STATE["next_job_id"]
    STATE["next_job_id"] += 1
    token = "glcbt-" + secrets.token_hex(10)
    payload = dict(payload)
    payload["id"] = job_id
    payload["token"] = token
    info = dict(payload.get("job_info") or {})
    info["id"] = job_id
    payload["job_info"] = info
    STATE["jobs"].append({"id": job_id, "token": token, "payload": payload,
                          "status": "pending", "trace": b"", "final": None,
                          "runner": None, "updates": []})
    STATE["queue_version"] += 1
    LOCK.notify_all()
    return job_id


def job_by_id(job_id):
    for j in STATE["jobs"]:
        if j["id"] == job_id:
            return j
    return None


class Handler(BaseHTTPRequestHandler):
    server_version = "gitlab-coordinator-test"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # the request log is ours
        pass

    # ---- plumbing ----
    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, body=None, headers=None, ctype="application/json"):
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)
        self.status = status

    def log_request_line(self, body, jbody):
        entry = {
            "time": time.time(), "method": self.command, "path": self.url.path,
            "query": dict(urllib.parse.parse_qsl(self.url.query)),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": jbody if jbody is not None else None,
            "body_len": len(body), "status": getattr(self, "status", 0),
        }
        with open(os.path.join(ARGS.state_dir, "requests.log"), "a") as f:
            f.write(json.dumps(entry) + "\n")

    def handle_any(self):
        self.url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        jbody = None
        if body and "json" in (self.headers.get("Content-Type") or ""):
            try:
                jbody = json.loads(body)
            except ValueError:
                jbody = None
        with LOCK:
            drop = not self.url.path.startswith("/_control/") and take_fault("drop")
        if drop:
            self.status = -1
            self.log_request_line(body, jbody)
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        try:
            self.route(body, jbody)
        finally:
            self.log_request_line(body, jbody)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def route(self, body, jbody):
        p = self.url.path
        if p.startswith("/_control/"):
            return self.control(p[len("/_control/"):], body)
        if not p.startswith("/api/v4/"):
            return self.reply(404, {"message": "404 Not Found"})
        p = p[len("/api/v4"):]
        m = self.command
        if (m, p) == ("POST", "/runners/verify"):
            return self.verify(jbody)
        if (m, p) == ("POST", "/runners"):
            return self.register(jbody)
        if (m, p) == ("DELETE", "/runners"):
            return self.unregister(jbody)
        if (m, p) == ("DELETE", "/runners/managers"):
            return self.unregister_manager(jbody)
        if (m, p) == ("POST", "/jobs/request"):
            return self.request_job(jbody)
        parts = p.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "jobs" and parts[1].isdigit():
            job = job_by_id(int(parts[1]))
            if job is None:
                return self.reply(404, {"message": "404 Not found"})
            if m == "PATCH" and parts[2:] == ["trace"]:
                return self.trace(job, body)
            if m == "PUT" and len(parts) == 2:
                return self.update(job, jbody)
        return self.reply(404, {"message": "404 Not Found"})

    # ---- checks shared by the runner calls ----
    def runner_token(self, jbody):
        """The runner token of a /runners or /jobs/request call, checked as GitLab would."""
        if not isinstance(jbody, dict) or not isinstance(jbody.get("token"), str):
            problem(f"{self.command} {self.url.path}: no token in the JSON body")
            return None
        tok = jbody["token"]
        hdr = self.headers.get("RUNNER-TOKEN")
        if hdr is not None and hdr != tok:
            problem(f"{self.command} {self.url.path}: RUNNER-TOKEN header differs from the body")
        if self.command != "DELETE":
            info = jbody.get("info")
            if not isinstance(info, dict) or not isinstance(info.get("features"), dict):
                problem(f"{self.command} {self.url.path}: no info.features")
        ua = self.headers.get("User-Agent") or ""
        if not ua.startswith("runnel "):
            problem(f"{self.command} {self.url.path}: User-Agent {ua!r}")
        return tok

    def valid_runner(self, tok):
        return tok in STATE["runners"] and tok not in STATE["revoked"]

    def job_token_ok(self, job, jbody=None):
        hdr = self.headers.get("JOB-TOKEN")
        if jbody is not None and isinstance(jbody, dict) and "token" in jbody:
            if hdr is not None and hdr != jbody["token"]:
                problem(f"{self.command} {self.url.path}: JOB-TOKEN header differs from the body")
            hdr = hdr or jbody["token"]
        return hdr == job["token"] and hdr not in STATE["revoked"]

    # ---- /runners ----
    def verify(self, jbody):
        with LOCK:
            tok = self.runner_token(jbody)
            if tok is None or not self.valid_runner(tok):
                return self.reply(403, {"message": "403 Forbidden"})
            r = STATE["runners"][tok]
            sid = jbody.get("system_id")
            if sid and sid not in r["system_ids"]:
                r["system_ids"].append(sid)
            return self.reply(200, {"id": r["id"], "token": tok,
                                    "token_expires_at": None})

    def register(self, jbody):
        with LOCK:
            tok = self.runner_token(jbody)
            if tok is None or tok != STATE["registration"] or tok in STATE["revoked"]:
                return self.reply(403, {"message": "403 Forbidden"})
            rid = STATE["next_runner_id"]
            STATE["next_runner_id"] += 1
            # a runner registered with a registration token gets a token without the glrt-
            # prefix of runners created in GitLab (which unregister with /runners/managers)
            new = secrets.token_urlsafe(15)
            tags = jbody.get("tag_list") or ""
            STATE["runners"][new] = {
                "id": rid, "description": jbody.get("description"),
                "tags": [t.strip() for t in tags.split(",") if t.strip()],
                "run_untagged": jbody.get("run_untagged"), "locked": jbody.get("locked"),
                "access_level": jbody.get("access_level"),
                "maximum_timeout": jbody.get("maximum_timeout"),
                "system_ids": [jbody["system_id"]] if jbody.get("system_id") else [],
            }
            return self.reply(201, {"id": rid, "token": new,
                                    "token_expires_at": "2027-12-04T00:00:00Z"})

    def unregister(self, jbody):
        with LOCK:
            tok = self.runner_token(jbody)
            if tok is None or not self.valid_runner(tok):
                return self.reply(403, {"message": "403 Forbidden"})
            del STATE["runners"][tok]
            return self.reply(204)

    def unregister_manager(self, jbody):
        with LOCK:
            tok = self.runner_token(jbody)
            if tok is None or not self.valid_runner(tok):
                return self.reply(403, {"message": "403 Forbidden"})
            sid = jbody.get("system_id")
            managers = STATE["runners"][tok]["system_ids"]
            if sid not in managers:
                problem(f"DELETE /runners/managers: unknown system_id {sid!r}")
                return self.reply(404, {"message": "404 Not found"})
            managers.remove(sid)
            return self.reply(204)

    # ---- /jobs/request with long polling ----
    def request_job(self, jbody):
        with LOCK:
            tok = self.runner_token(jbody)
            if tok is None or not self.valid_runner(tok):
                return self.reply(403, {"message": "403 Forbidden"})
            if take_fault("request-503"):
                return self.reply(503, {"message": "503 Service Unavailable"})
            if take_fault("hang-poll"):
                end = time.time() + 3600
                while time.time() < end:
                    LOCK.wait(end - time.time())
            last = jbody.get("last_update")
            deadline = time.time() + ARGS.long_poll
            while True:
                pending = [j for j in STATE["jobs"] if j["status"] == "pending"]
                if pending:
                    if take_fault("request-409"):
                        return self.reply(409, {"message": "409 Conflict"})
                    job = pending[0]
                    job["status"] = "running"
                    job["runner"] = tok
                    return self.reply(201, job["payload"])
                version = str(STATE["queue_version"])
                # GitLab answers at once when the runner's view is stale; Workhorse holds a
                # request whose last_update is current until the queue changes
                left = deadline - time.time()
                if last != version or left <= 0:
                    return self.reply(204, headers={"X-GitLab-Last-Update": version})
                LOCK.wait(left)

    # ---- /jobs/:id ----
    def job_headers(self, job):
        return {"Job-Status": job["status"],
                "X-GitLab-Trace-Update-Interval": str(ARGS.update_interval)}

    def trace(self, job, body):
        with LOCK:
            if not self.job_token_ok(job):
                return self.reply(403, {"message": "403 Forbidden"})
            if job["status"] not in ("running", "canceling"):
                return self.reply(403, {"message": "403 Forbidden - Job is not running"},
                                  self.job_headers(job))
            cr = self.headers.get("Content-Range")
            if cr is None:
                problem("PATCH trace without Content-Range")
                return self.reply(400, {"message": "400 Bad request - Content-Range required"})
            try:
                start, end = (int(x) for x in cr.split("-"))
            except ValueError:
                problem(f"PATCH trace with a bad Content-Range {cr!r}")
                return self.reply(400, {"message": "400 Bad request"})
            size = len(job["trace"])
            hdrs = self.job_headers(job)
            if size > 0 and take_fault("trace-416"):
                # the server lost the last bytes it stored: the runner must resend from Range
                job["trace"] = job["trace"][: size // 2]
                size = len(job["trace"])
                hdrs["Range"] = f"0-{size}"
                return self.reply(416, {"message": "416 Range Not Satisfiable"}, hdrs)
            if start != size:
                hdrs["Range"] = f"0-{size}"
                return self.reply(416, {"message": "416 Range Not Satisfiable"}, hdrs)
            if end - start + 1 != len(body):
                problem(f"PATCH trace: Content-Range {cr} but {len(body)} bytes")
            job["trace"] += body
            hdrs["Range"] = f"0-{len(job['trace'])}"
            return self.reply(202, None, hdrs)

    def update(self, job, jbody):
        with LOCK:
            if not isinstance(jbody, dict) or not self.job_token_ok(job, jbody):
                return self.reply(403, {"message": "403 Forbidden"})
            state = jbody.get("state")
            job["updates"].append(jbody)
            hdrs = self.job_headers(job)
            if job["status"] not in ("running", "canceling"):
                return self.reply(403, {"message": "403 Forbidden - Job is not running"}, hdrs)
            if state in ("running", "pending"):
                if state == "running" and take_fault("accept-409"):
                    return self.reply(409, {"message": "409 Conflict"}, hdrs)
                return self.reply(200, None, hdrs)
            if state not in ("success", "failed"):
                return self.reply(400, {"message": "400 Bad request - bad state"}, hdrs)
            if take_fault("finish-202"):
                return self.reply(202, None, hdrs)
            self.check_output(job, jbody)
            job["status"] = state
            job["final"] = jbody
            STATE["queue_version"] += 1
            LOCK.notify_all()
            return self.reply(200, None, hdrs)

    def check_output(self, job, jbody):
        out = jbody.get("output") or {}
        want = "crc32:%08x" % (binascii.crc32(job["trace"]) & 0xFFFFFFFF)
        if out.get("checksum") != want:
            problem(f"job {job['id']}: checksum {out.get('checksum')!r}, trace has {want}")
        if out.get("bytesize") != len(job["trace"]):
            problem(f"job {job['id']}: bytesize {out.get('bytesize')!r}, "
                    f"trace has {len(job['trace'])}")
        reasons = ((job["payload"].get("features") or {}).get("failure_reasons")) or []
        fr = jbody.get("failure_reason")
        if fr is not None and reasons and fr not in reasons:
            problem(f"job {job['id']}: failure_reason {fr!r} is not in features.failure_reasons")

    # ---- the control API ----
    def control(self, what, body):
        q = dict(urllib.parse.parse_qsl(self.url.query))
        with LOCK:
            if what == "state":
                jobs = [{"id": j["id"], "status": j["status"], "runner": j["runner"],
                         "trace": j["trace"].decode("utf-8", "replace"), "final": j["final"],
                         "updates": j["updates"]} for j in STATE["jobs"]]
                return self.reply(200, {"jobs": jobs, "runners": STATE["runners"],
                                        "problems": STATE["problems"],
                                        "queue_version": STATE["queue_version"]})
            if what == "enqueue":
                return self.reply(200, {"id": add_job(json.loads(body))})
            if what == "fault":
                STATE["faults"][q["name"]] = STATE["faults"].get(q["name"], 0) + int(q.get("n", 1))
                return self.reply(200, {"ok": True})
            if what == "revoke":
                STATE["revoked"].add(q["token"])
                return self.reply(200, {"ok": True})
            if what == "cancel":
                job = job_by_id(int(q["id"]))
                job["status"] = q.get("status", "canceling")
                return self.reply(200, {"ok": True})
            if what == "add-runner":
                tok = q["token"]
                STATE["runners"][tok] = {"id": STATE["next_runner_id"], "system_ids": []}
                STATE["next_runner_id"] += 1
                return self.reply(200, {"ok": True})
        return self.reply(404, {"message": "unknown control call"})


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--runner-token", action="append", default=[])
    ap.add_argument("--registration-token")
    ap.add_argument("--job", action="append", default=[])
    ap.add_argument("--long-poll", type=float, default=50.0)
    ap.add_argument("--update-interval", type=int, default=3)
    ap.add_argument("--fault", action="append", default=[])
    ARGS = ap.parse_args()
    for tok in ARGS.runner_token:
        STATE["runners"][tok] = {"id": STATE["next_runner_id"], "system_ids": []}
        STATE["next_runner_id"] += 1
    STATE["registration"] = ARGS.registration_token
    for path in ARGS.job:
        with open(path) as f, LOCK:
            add_job(json.load(f))
    for spec in ARGS.fault:
        name, _, n = spec.partition("=")
        STATE["faults"][name] = int(n or 1)
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    if ARGS.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    return publish_port_and_serve(srv, os.path.join(ARGS.state_dir, "port"))


if __name__ == "__main__":
    sys.exit(main())
