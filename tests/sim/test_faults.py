#!/usr/bin/env python3
"""Checks kubesim's fault injection (/_sim/faults): every action, the
matching rules and the request log, seen from urllib, http.client and
raw sockets.

Exit 0 when every check passes; prints one summary line.
"""

import http.client
import json
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import sim_testing

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "fault-token-0123"
TOO_MANY = b"Too many requests, please try again later.\n"
PODS = "/api/v1/namespaces/default/pods"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


# -- talking to kubesim -------------------------------------------------------

class Server:
    def __init__(self, port, tls_port, directory):
        self.port = port
        self.tls_port = tls_port
        self.dir = directory

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def control(self, path, body=None):
        """A /_sim/ request through urllib: (status, JSON answer)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url("/_sim/" + path), data)
        try:
            with urllib.request.urlopen(req, timeout=10) as reply:
                return reply.status, json.load(reply)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    def faults(self, *faults):
        status, answer = self.control("faults", {"faults": list(faults)})
        assert status == 200, f"adding faults: {status} {answer}"
        return answer["faults"]

    def api(self, path, method="GET", body=None, token=TOKEN):
        """An API request through urllib: (status, headers, body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url(path), data, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as reply:
                return reply.status, reply.headers, reply.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def api_json(self, path):
        status, _, body = self.api(path)
        assert status == 200, f"GET {path}: {status} {body[:200]!r}"
        return json.loads(body)

    def http_client(self):
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=10)

    def log(self):
        return self.control("requests")[1]

    def raw(self, path, tls=False, timeout=15):
        """A GET over a raw socket, read until the server hangs up."""
        if tls:
            ctx = ssl.create_default_context(
                cafile=os.path.join(self.dir, "ca.crt"))
            sock = ctx.wrap_socket(
                socket.create_connection(("127.0.0.1", self.tls_port), 10),
                server_hostname="127.0.0.1")
        else:
            sock = socket.create_connection(("127.0.0.1", self.port), 10)
        sock.settimeout(timeout)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Authorization: Bearer {TOKEN}\r\n"
                     f"Connection: close\r\n\r\n".encode())
        return Raw.read(sock)


class Raw:
    """A raw answer: status, headers, chunks, and when bytes came."""

    @classmethod
    def read(cls, sock):
        start, data, last = time.monotonic(), b"", 0.0
        while True:
            try:
                part = sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not part:
                break
            data += part
            last = time.monotonic() - start
        sock.close()
        return cls(data, last, time.monotonic() - start)

    def __init__(self, data, last_data, ended):
        self.last_data = last_data  # seconds to the last bytes
        self.ended = ended  # seconds to the end of the connection
        head, _, self.rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(": ")
            self.headers[name.lower()] = value
        self.chunks, self.terminated = [], False
        if self.headers.get("transfer-encoding") == "chunked":
            self._parse_chunks()

    def _parse_chunks(self):
        rest = self.rest
        while True:
            size_line, sep, rest = rest.partition(b"\r\n")
            if not sep:
                return
            size = int(size_line, 16)
            if size == 0:
                self.terminated = rest == b"\r\n"
                return
            if len(rest) < size + 2:
                return  # cut in the middle of a chunk
            self.chunks.append(rest[:size])
            rest = rest[size + 2:]

    @property
    def body(self):
        return b"".join(self.chunks)

    def lines(self):
        return [line for line in self.body.split(b"\n") if line]

    def events(self):
        return [json.loads(line) for line in self.lines()]


def types(events):
    return [e["type"] for e in events]


def current_rv(server, path):
    return server.api_json(path)["metadata"]["resourceVersion"]


def pending(server):
    return server.control("faults")[1]["faults"]


def logged(server, path, watch=False):
    """The request log's last GET of path (a watch or not)."""
    return [e for e in server.log() if e["path"] == path and
            e["method"] == "GET" and
            (e["query"].get("watch") == "1") == watch][-1]


# -- the checks ---------------------------------------------------------------

def t_control(s):
    added = s.faults({"match": "list", "status": 503},
                     {"match": "watch", "count": 3, "close_immediately": True,
                      "path_prefix": "/api/v1/namespaces/x/pods"})
    assert added == [
        {"match": "list", "path_prefix": "", "count": 1, "status": 503},
        {"match": "watch", "path_prefix": "/api/v1/namespaces/x/pods",
         "count": 3, "close_immediately": True}], added
    assert pending(s) == added
    bad = [{"status": 500},  # no match
           {"match": "list", "status": 200},
           {"match": "list", "error_event": {}},  # watches only
           {"match": "watch", "repeat_continue": True},  # lists only
           {"match": "any", "stall": 1, "cut_after": 1},
           {"match": "any", "status": 500, "count": 0},
           {"match": "any", "status": 500, "colour": "red"},
           {"match": "any", "stall": 1, "retry_after": 1},
           {"match": "any", "stall": -1}, "status"]
    for fault in bad:
        status, answer = s.control("faults", {"faults": [fault]})
        assert status == 400 and "error" in answer, (fault, status, answer)
    status, _ = s.control("faults", {"faults": {"match": "any"}})
    assert status == 400
    assert pending(s) == added, "a bad request must add nothing"
    assert s.control("faults/clear", {}) == (200, {"cleared": 2})
    assert pending(s) == []


def t_429(s):
    s.faults({"match": "list", "status": 429, "count": 2,
              "path_prefix": PODS})
    for _ in range(2):
        status, headers, body = s.api(PODS)
        assert status == 429, status
        assert body == TOO_MANY, body
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        assert headers["Retry-After"] == "1"
    assert s.api("/api/v1/pods")[0] == 200, "path_prefix must restrict"
    assert s.api(PODS)[0] == 200, "count 2 is used up"
    entry = logged(s, PODS)
    assert "fault" not in entry and entry["status"] == 200, entry
    faulted = [e for e in s.log() if e.get("fault")]
    assert [(e["status"], e["fault"]) for e in faulted[-2:]] == \
        [(429, "status")] * 2, faulted
    s.faults({"match": "any", "status": 429, "retry_after": None})
    status, headers, _ = s.api(PODS + "/pod-0")
    assert status == 429 and "Retry-After" not in headers


def status_of(s, path, fault, code, reason):
    s.faults(fault)
    status, headers, body = s.api(path)
    assert status == code, f"{fault}: HTTP {status}"
    assert headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert list(doc)[:4] == ["kind", "apiVersion", "metadata", "status"]
    assert doc["kind"] == "Status" and doc["status"] == "Failure", doc
    assert doc["reason"] == reason and doc["code"] == code, doc
    base, _, query = path.partition("?")
    assert logged(s, base, "watch=1" in query)["fault"] == "status"
    return headers, doc


def t_status_codes(s):
    headers, doc = status_of(
        s, PODS, {"match": "list", "status": 500, "retry_after": 2,
                  "message": "etcdserver: request timed out"},
        500, "InternalError")
    assert doc["message"] == \
        "Internal error occurred: etcdserver: request timed out", doc
    assert doc["details"] == {
        "causes": [{"message": "etcdserver: request timed out"}],
        "retryAfterSeconds": 2}, doc
    assert headers["Retry-After"] == "2"
    headers, doc = status_of(s, PODS + "/pod-1",
                             {"match": "any", "status": 500},
                             500, "InternalError")
    assert doc["message"].startswith("Internal error occurred: ")
    assert "Retry-After" not in headers
    _, doc = status_of(s, PODS, {"match": "any", "status": 503},
                       503, "ServiceUnavailable")
    assert doc["message"] == \
        "the server is currently unable to handle the request"
    _, doc = status_of(s, PODS, {"match": "list", "status": 504},
                       504, "Timeout")
    assert doc["message"].startswith("Timeout: "), doc
    _, doc = status_of(s, PODS, {"match": "list", "status": 410},
                       410, "Expired")
    assert doc["message"] == \
        "The resourceVersion for the provided list is too old.", doc
    _, doc = status_of(s, PODS + "?watch=1", {"match": "watch",
                                               "status": 410},
                       410, "Expired")
    assert "provided watch is too old" in doc["message"], doc
    _, doc = status_of(s, PODS, {"match": "list", "status": 403},
                       403, "Forbidden")
    assert doc["message"] == (
        'pods is forbidden: User "kubesim-admin" cannot list resource '
        '"pods" in API group "" in the namespace "default"'), doc
    _, doc = status_of(s, PODS, {"match": "list", "status": 404,
                                 "message": "gone fishing"},
                       404, "NotFound")
    assert doc["message"] == "gone fishing"


def t_order_and_matching(s):
    s.faults({"match": "watch", "status": 500},
             {"match": "any", "status": 503, "count": 2},
             {"match": "list", "status": 504})
    # A list skips the watch fault; the first fault that fits wins.
    assert s.api(PODS)[0] == 503
    assert [f["count"] for f in pending(s)] == [1, 1, 1]
    assert s.api(PODS)[0] == 503
    assert s.api(PODS)[0] == 504
    assert [f["match"] for f in pending(s)] == ["watch"]
    # Requests that fail anyway, or are not on resources, use no fault.
    assert s.api("/api/v1/namespaces/default/nosuch?watch=1")[0] == 404
    assert s.api(PODS + "?watch=1", token="wrong")[0] == 401
    assert s.api("/version")[0] == 200
    assert len(pending(s)) == 1
    assert s.api(PODS + "?watch=1")[0] == 500
    assert pending(s) == []


def t_error_event(s):
    s.faults({"match": "watch", "error_event": {
        "code": 410, "reason": "Expired", "message": "too old: 3 (9)"}})
    reply = s.raw(PODS + "?watch=1&resourceVersion=3")
    assert reply.status == 200 and reply.terminated
    assert reply.events() == [{"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": "too old: 3 (9)",
        "reason": "Expired", "code": 410}}], reply.events()
    entry = logged(s, PODS, watch=True)
    assert (entry["status"], entry["fault"]) == (200, "error_event")


def t_garbage(s):
    s.faults({"match": "watch", "garbage_after": 2})
    reply = s.raw(PODS + "?watch=1&resourceVersion=0")
    assert reply.status == 200 and reply.terminated
    lines = reply.lines()
    assert len(lines) == 3 and lines[2] == b"this is not json", lines
    assert types(json.loads(x) for x in lines[:2]) == ["ADDED"] * 2
    # No events to send: BOOKMARKs at the current RV stand in for them.
    rv = current_rv(s, CONFIGMAPS)
    s.faults({"match": "watch", "garbage_after": 2})
    reply = s.raw(f"{CONFIGMAPS}?watch=1&resourceVersion={rv}")
    lines = reply.lines()
    assert lines[2:] == [b"this is not json"] and reply.terminated, lines
    for line in lines[:2]:
        event = json.loads(line)
        assert event["type"] == "BOOKMARK", event
        assert event["object"]["metadata"]["resourceVersion"] == rv
    assert reply.ended >= 0.4, "should wait for live events first"
    assert logged(s, CONFIGMAPS, watch=True)["fault"] == "garbage_after"
    s.faults({"match": "list", "garbage_after": 0})
    conn = s.http_client()
    conn.request("GET", PODS, headers={"Authorization": f"Bearer {TOKEN}"})
    reply = conn.getresponse()
    assert reply.status == 200
    try:
        json.loads(reply.read())
        raise AssertionError("the list body should not be JSON")
    except ValueError:
        pass
    conn.close()


def t_cut(s):
    s.faults({"match": "watch", "cut_after": 1})
    reply = s.raw(PODS + "?watch=1&resourceVersion=0")
    assert reply.status == 200 and not reply.terminated
    assert types(reply.events()) == ["ADDED"]
    for tls in (False, True):
        s.faults({"match": "watch", "cut_after": 2})
        reply = s.raw(PODS + "?watch=1&resourceVersion=0", tls=tls)
        assert types(reply.events()) == ["ADDED"] * 2, tls
        assert not reply.terminated, tls
    s.faults({"match": "list", "cut_after": 0})
    conn = s.http_client()
    conn.request("GET", PODS, headers={"Authorization": f"Bearer {TOKEN}"})
    reply = conn.getresponse()
    assert reply.status == 200
    try:
        reply.read()
        raise AssertionError("the list body should be cut short")
    except http.client.IncompleteRead as err:
        assert 0 < len(err.partial) < err.expected + len(err.partial)
    conn.close()
    entry = logged(s, PODS)
    assert (entry["status"], entry["fault"]) == (200, "cut_after")


def t_half_line_then_stall(s):
    # A stall long enough to tell "half a line, then silence" from "half
    # a line after the stall" even when a loaded machine answers slowly.
    s.faults({"match": "watch", "half_line_then_stall": 5})
    reply = s.raw(PODS + "?watch=1&resourceVersion=0")
    assert reply.status == 200 and not reply.terminated
    assert len(reply.chunks) == 1, reply.chunks
    half = reply.chunks[0]
    assert half.startswith(b'{"type":"ADDED"') and b"\n" not in half
    assert reply.last_data < 2, reply.last_data
    assert reply.ended - reply.last_data >= 3, (reply.last_data,
                                               reply.ended)
    entry = logged(s, PODS, watch=True)
    assert (entry["status"], entry["fault"]) == \
        (200, "half_line_then_stall")


def t_stall(s):
    # Long enough that headers sent at once are told from headers sent
    # after the stall, even on a loaded machine.
    s.faults({"match": "any", "stall": 5})
    reply = s.raw(PODS + "/pod-0")  # any request, not only lists
    assert reply.status == 200 and reply.chunks == [], reply.chunks
    assert reply.headers["transfer-encoding"] == "chunked"
    assert not reply.terminated and reply.rest == b""
    assert reply.last_data < 2 and reply.ended >= 4.5, \
        (reply.last_data, reply.ended)
    entry = logged(s, PODS + "/pod-0")
    assert (entry["status"], entry["fault"]) == (200, "stall")


def t_close_immediately(s):
    s.faults({"match": "watch", "close_immediately": True})
    reply = s.raw(PODS + "?watch=1&resourceVersion=0")
    assert reply.status == 200 and reply.terminated
    # Without the fault the watch would stay open for many minutes.
    assert reply.chunks == [] and reply.ended < 2, reply.ended


def check_split(reply, count):
    """Pieces of 3 to 7 bytes, and now and then two lines in one chunk."""
    assert reply.status == 200 and reply.terminated
    events = reply.events()
    assert len(events) == count, types(events)
    whole = [c for c in reply.chunks if len(c) > 7]
    for chunk in whole:
        assert chunk.count(b"\n") == 2 and chunk.endswith(b"\n"), chunk
    assert all(3 <= len(c) <= 7 for c in reply.chunks if c not in whole)
    return events, whole


def t_split_events(s):
    s.faults({"match": "watch", "split_events": True, "split_delay": 0.001})
    reply = s.raw(PODS + "?watch=1&resourceVersion=0&timeoutSeconds=2")
    events, pairs = check_split(reply, 3)
    assert types(events) == ["ADDED"] * 3 and len(pairs) == 1
    # Live events are split too.
    rv = current_rv(s, CONFIGMAPS)
    s.faults({"match": "watch", "split_events": True, "split_delay": 0.001})
    result = {}
    path = f"{CONFIGMAPS}?watch=1&resourceVersion={rv}&timeoutSeconds=2"
    watch = threading.Thread(target=lambda: result.update(r=s.raw(path)))
    watch.start()
    time.sleep(0.3)
    assert s.api(CONFIGMAPS, "POST", {"metadata": {"name": "split"}})[0] \
        == 201
    watch.join(15)
    events, pairs = check_split(result["r"], 1)
    assert types(events) == ["ADDED"] and not pairs
    assert events[0]["object"]["metadata"]["name"] == "split"
    assert logged(s, CONFIGMAPS, watch=True)["fault"] == "split_events"


def t_repeat_continue(s):
    s.faults({"match": "list", "repeat_continue": True, "count": 3})
    first = s.api_json(PODS + "?limit=1")
    token = first["metadata"]["continue"]
    for _ in range(2):
        page = s.api_json(PODS + "?limit=1&continue=" + token)
        assert page["metadata"]["continue"] == token, page["metadata"]
        assert page["metadata"]["resourceVersion"] == \
            first["metadata"]["resourceVersion"]
        assert page["items"] == first["items"]
    # Used up: the token is a valid one, served as usual.
    page = s.api_json(PODS + "?limit=1&continue=" + token)
    assert page["metadata"]["continue"] != token, page["metadata"]
    assert [(e["status"], e.get("fault")) for e in s.log()[-4:]] == \
        [(200, "repeat_continue")] * 3 + [(200, None)]


CHECKS = [t_control, t_429, t_status_codes, t_order_and_matching,
          t_error_event, t_garbage, t_cut, t_half_line_then_stall, t_stall,
          t_close_immediately, t_split_events, t_repeat_continue]


# -- running ------------------------------------------------------------------

def start_server(directory):
    proc, https, http, _ = sim_testing.start_kubesim(
        directory, "test_faults",
        ["--token", TOKEN, "--seed-pods", "3", "--no-kubelet"])
    return proc, Server(http, https, directory)


def main():
    with tempfile.TemporaryDirectory(prefix="kubesim-faults-") as directory:
        proc, server = start_server(directory)
        return sim_testing.run_checks(
            "test_faults", proc, CHECKS, server,
            after_each=lambda: server.control("faults/clear", {}))

if __name__ == "__main__":
    sys.exit(main())
