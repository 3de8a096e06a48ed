#!/usr/bin/env python3
"""git-http.py - a small HTTP server on 127.0.0.1 that runs `git http-backend`
as a CGI for the sync tests (tests/cli/servers.sh starts it).

usage: git-http.py PORT-FILE ROOT [--auth USER:PASSWORD]

Binds a free port on 127.0.0.1, writes "PORT PID" to PORT-FILE once it
listens (the PID of this process, which a wrapper such as pyenv's may hide), and
serves every repository under ROOT (smart HTTP, push allowed) at
http://127.0.0.1:PORT/NAME.  Request bodies sent with chunked transfer
encoding (libgit2 pushes that way) are decoded before they reach the CGI,
which Python's own CGIHTTPRequestHandler cannot do.  With --auth, every
request without that Basic user and password is answered 401.
"""
import base64
import http.server
import os
import subprocess
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."
    auth = None

    def log_message(self, fmt, *args):
        sys.stderr.write("git-http: " + (fmt % args) + "\n")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        if self.auth is None:
            return True
        got = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(self.auth.encode()).decode()
        return got == want

    def serve(self):
        body = self.read_body() if self.command == "POST" else b""
        if not self.authorized():
            # No body: libgit2 1.5.1 replays the request with credentials on
            # the same connection without reading a 401's body, and then
            # fails with "http parser error: invalid constant string".
            self.reply(401, [("WWW-Authenticate", 'Basic realm="kb"')], b"")
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": self.auth.split(":")[0] if self.auth else "anonymous",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        for h, var in (("Content-Encoding", "HTTP_CONTENT_ENCODING"),
                       ("Git-Protocol", "GIT_PROTOCOL")):
            if self.headers.get(h):
                env[var] = self.headers.get(h)
        proc = subprocess.run(["git", "http-backend"], input=body, env=env,
                              stdout=subprocess.PIPE, stderr=sys.stderr.buffer)
        head, _, out = proc.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, out = proc.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.reply(status, headers, out)

    do_GET = serve
    do_POST = serve


def main():
    if len(sys.argv) not in (3, 5) or (len(sys.argv) == 5 and sys.argv[3] != "--auth"):
        sys.exit("usage: git-http.py PORT-FILE ROOT [--auth USER:PASSWORD]")
    Handler.root = os.path.abspath(sys.argv[2])
    Handler.auth = sys.argv[4] if len(sys.argv) == 5 else None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (server.server_address[1], os.getpid()))
    os.rename(tmp, sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
