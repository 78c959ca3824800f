# SPDX-License-Identifier: Apache-2.0
"""A small threaded HTTP proxy that sits between the S3 client and a real
S3 server on 127.0.0.1 and injects faults into chosen requests: 500, 503
SlowDown, 403, connection reset, stall, truncated body, and a 200 answer
carrying an <Error> document. Requests are forwarded byte-for-byte with
their Host header, so the server still verifies every SigV4 signature."""
from __future__ import annotations

import http.client
import re
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

FAULTS = ("500", "503", "403", "reset", "stall", "truncate", "error200")


@dataclass
class Rule:
    """Inject `fault` into requests matching method and the path+query
    pattern: skip the first `skip` matches, then fault the next `times`
    (-1: all of them)."""

    fault: str
    path: str = ".*"
    method: Optional[str] = None
    times: int = 1
    skip: int = 0
    stall_s: float = 5.0
    seen: int = 0

    def take(self, method: str, target: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if not re.search(self.path, target):
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.times == 0:
            return False
        if self.times > 0:
            self.times -= 1
        return True


@dataclass
class Entry:
    method: str
    target: str
    fault: Optional[str]


@dataclass
class FaultProxy:
    upstream_port: int
    rules: list[Rule] = field(default_factory=list)
    log: list[Entry] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    _server: Optional[socketserver.ThreadingTCPServer] = None

    def start(self) -> "FaultProxy":
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        self._server = srv
        self.port = srv.server_address[1]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.rules.clear()
            self.log.clear()

    def add(self, rule: Rule) -> Rule:
        with self.lock:
            self.rules.append(rule)
        return rule

    def count(self, method: str, pattern: str) -> int:
        with self.lock:
            return sum(1 for e in self.log
                       if e.method == method and re.search(pattern, e.target))

    # ---- one client connection ----

    def _pick(self, method: str, target: str) -> Optional[Rule]:
        with self.lock:
            chosen = None
            for r in self.rules:
                if r.take(method, target):
                    chosen = r
                    break
            self.log.append(Entry(method, target,
                                  chosen.fault if chosen else None))
            return chosen

    def _serve(self, sock: socket.socket) -> None:
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port,
                                              timeout=60)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [tuple(x.split(":", 1)) for x in lines[1:] if x]
                length = 0
                for k, v in headers:
                    if k.strip().lower() == "content-length":
                        length = int(v)
                while len(buf) < length:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:length], buf[length:]
                rule = self._pick(method, target)
                if rule is not None and not self._fault(sock, rule):
                    return
                if rule is not None and rule.fault != "truncate":
                    continue
                upstream.putrequest(method, target, skip_host=True,
                                    skip_accept_encoding=True)
                for k, v in headers:
                    upstream.putheader(k.strip(), v.strip())
                upstream.endheaders(body if length else None)
                resp = upstream.getresponse()
                data = resp.read()
                out = [f"HTTP/1.1 {resp.status} {resp.reason}"]
                for k, v in resp.getheaders():
                    if k.lower() in ("transfer-encoding", "connection",
                                     "content-length"):
                        continue
                    out.append(f"{k}: {v}")
                out.append(f"Content-Length: {len(data)}")
                raw = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
                if rule is not None and rule.fault == "truncate":
                    sock.sendall(raw + data[: len(data) // 2])
                    return
                sock.sendall(raw + data)
        except OSError:
            return
        finally:
            upstream.close()
            try:
                sock.close()
            except OSError:
                pass

    def _fault(self, sock: socket.socket, rule: Rule) -> bool:
        """Answer with the fault. False: the connection is gone."""
        f = rule.fault
        if f == "truncate":
            return True  # forwarded, then cut short by the caller
        if f == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            sock.close()
            return False
        if f == "stall":
            time.sleep(rule.stall_s)
            sock.close()
            return False
        status, code, msg = {
            "500": (500, "InternalError", "We encountered an internal error."),
            "503": (503, "SlowDown", "Please reduce your request rate."),
            "403": (403, "AccessDenied", "Access Denied"),
            "error200": (200, "InternalError", "Injected error in a 200."),
        }[f]
        body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}'
                f"</Code><Message>{msg}</Message><RequestId>FAULT{status}"
                f"</RequestId></Error>").encode()
        reason = {500: "Internal Server Error", 503: "Slow Down",
                  403: "Forbidden", 200: "OK"}[status]
        sock.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: "
                     f"application/xml\r\nx-amz-request-id: FAULT{status}\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        return True
