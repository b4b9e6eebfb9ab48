#!/usr/bin/env python3
"""Checks kubesim's answers against responses captured from a real
kube-apiserver v1.32 (tests/sim/captures/): status codes, Status bodies,
list metadata, watch framing and bookmarks. Structure is compared (keys,
types, reasons, message formats), not volatile values such as uids.

Exit 0 when every check passes; prints one summary line.
"""

import base64
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import sim_testing

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(HERE, "captures")
TOKEN = "test-token-0123"


# -- captures -----------------------------------------------------------------

def read_capture(name):
    """(status, headers, body bytes) of captures/NAME.http."""
    with open(os.path.join(CAPTURES, name + ".http"), "rb") as f:
        data = f.read()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def capture_json(name):
    return json.loads(read_capture(name)[2])


def capture_events(name):
    body = read_capture(name)[2].decode()
    return [json.loads(line) for line in body.split("\n") if line.strip()]


# -- a raw HTTP/1.1 client, so that chunk framing can be checked --------------

class Reply:
    def __init__(self, status, headers, body, chunks, terminated):
        self.status = status
        self.headers = headers
        self.body = body
        self.chunks = chunks  # None unless Transfer-Encoding: chunked
        self.terminated = terminated  # saw the zero-length chunk

    def json(self):
        return json.loads(self.body)

    def events(self):
        text = self.body.decode()
        assert text == "" or text.endswith("\n"), "watch body must end in \\n"
        return [json.loads(line) for line in text.split("\n") if line]


class Client:
    def __init__(self, port, tls_port, directory):
        self.port = port
        self.tls_port = tls_port
        self.dir = directory

    def _connect(self, tls, cert):
        if not tls:
            return socket.create_connection(("127.0.0.1", self.port), 10)
        ctx = ssl.create_default_context(
            cafile=os.path.join(self.dir, "ca.crt"))
        if cert:
            ctx.load_cert_chain(os.path.join(self.dir, "client.crt"),
                                os.path.join(self.dir, "client.key"))
        raw = socket.create_connection(("127.0.0.1", self.tls_port), 10)
        return ctx.wrap_socket(raw, server_hostname="127.0.0.1")

    def request(self, method, path, body=None, token=TOKEN, tls=False,
                cert=False, content_type="application/json", timeout=15):
        sock = self._connect(tls, cert)
        sock.settimeout(timeout)
        data = b"" if body is None else (
            body if isinstance(body, bytes) else json.dumps(body).encode())
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1",
                 "Connection: close", "Accept: application/json",
                 f"Content-Length: {len(data)}"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if data:
            lines.append(f"Content-Type: {content_type}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        raw = b""
        while True:
            try:
                part = sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not part:
                break
            raw += part
        sock.close()
        return parse_reply(raw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def sim(self, what, body=None):
        reply = self.request("POST", "/_sim/" + what, body or {}, token=None)
        assert reply.status == 200, f"/_sim/{what}: {reply.status}"
        return reply.json()


def parse_reply(raw):
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    if headers.get("transfer-encoding") != "chunked":
        return Reply(status, headers, rest, None, False)
    chunks, terminated = [], False
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            terminated = rest == b"\r\n"
            break
        chunks.append(rest[:size])
        assert rest[size:size + 2] == b"\r\n", "chunk not followed by CRLF"
        rest = rest[size + 2:]
    return Reply(status, headers, b"".join(chunks), chunks, terminated)


# -- comparisons --------------------------------------------------------------

def same_shape(ours, theirs, where="body", ignore=()):
    """Same keys and JSON types, recursively (lists: by first element)."""
    assert type(ours) is type(theirs) or \
        {type(ours), type(theirs)} <= {int, float}, \
        f"{where}: type {type(ours).__name__} != {type(theirs).__name__}"
    if isinstance(theirs, dict):
        want = set(theirs) - set(ignore)
        have = set(ours) - set(ignore)
        assert have == want, f"{where}: keys {sorted(have)} != {sorted(want)}"
        for key in want:
            same_shape(ours[key], theirs[key], f"{where}.{key}", ignore)
    elif isinstance(theirs, list) and theirs and ours:
        same_shape(ours[0], theirs[0], f"{where}[0]", ignore)


def same_status(reply, capture, message_re=None):
    """Status code, headers and Status body as in the capture; the
    message equal, or matching message_re when it holds values."""
    status, headers, body = read_capture(capture)
    theirs = json.loads(body)
    assert reply.status == status, f"HTTP {reply.status} != {status}"
    assert reply.headers.get("content-type") == headers["Content-Type"]
    ours = reply.json()
    same_shape(ours, theirs, ignore=("continue",))
    for key in ("kind", "apiVersion", "status", "reason", "code"):
        assert ours.get(key) == theirs.get(key), f"{key}: {ours.get(key)}"
    if message_re:
        assert re.fullmatch(message_re, ours["message"]), ours["message"]
    else:
        assert ours["message"] == theirs["message"], ours["message"]
    return ours


def names(items):
    return [f'{i["metadata"].get("namespace", "")}/{i["metadata"]["name"]}'
            for i in items]


def decode_token(token):
    padded = token + "=" * (-len(token) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def check_list(reply, capture):
    """A list page shaped like the captured one: metadata keys, items
    without kind/apiVersion, same item names in the same order."""
    theirs = capture_json(capture)
    assert reply.status == 200, f"HTTP {reply.status}"
    ours = reply.json()
    assert list(ours) == list(theirs), f"top keys {list(ours)}"
    assert ours["kind"] == theirs["kind"]
    assert ours["apiVersion"] == theirs["apiVersion"]
    assert list(ours["metadata"]) == list(theirs["metadata"]), \
        f'metadata keys {list(ours["metadata"])} != ' \
        f'{list(theirs["metadata"])}'
    assert re.fullmatch(r"[1-9][0-9]*", ours["metadata"]["resourceVersion"])
    for key in ("remainingItemCount",):
        assert ours["metadata"].get(key) == theirs["metadata"].get(key), key
    if "continue" in theirs["metadata"]:
        tok, cap = (decode_token(ours["metadata"]["continue"]),
                    decode_token(theirs["metadata"]["continue"]))
        assert set(tok) == set(cap) and tok["v"] == cap["v"], tok
        assert tok["start"].endswith("\x00"), tok
    for item in ours["items"]:
        assert "kind" not in item and "apiVersion" not in item, \
            "list items must not carry kind/apiVersion"
    assert names(ours["items"]) == names(theirs["items"]), \
        f'items {names(ours["items"])} != {names(theirs["items"])}'
    return ours


def check_framing(reply):
    """Watch framing: 200, chunked JSON, one event line per chunk."""
    assert reply.status == 200, f"HTTP {reply.status}"
    assert reply.headers.get("content-type") == "application/json"
    assert reply.chunks is not None, "watch must be chunked"
    for chunk in reply.chunks:
        assert chunk.endswith(b"\n") and chunk.count(b"\n") == 1, \
            f"chunk is not one event line: {chunk[:80]!r}"
    events = reply.events()
    for ev in events:
        assert list(ev) == ["type", "object"], f"event keys {list(ev)}"
        assert "kind" in ev["object"] and "apiVersion" in ev["object"]
    return events


def bookmark_like(ours, theirs):
    """A BOOKMARK object equal to the captured one but for the RV."""
    rv = ours["object"]["metadata"]["resourceVersion"]
    assert re.fullmatch(r"[1-9][0-9]*", rv), rv
    expect = json.loads(json.dumps(theirs))
    expect["object"]["metadata"]["resourceVersion"] = rv
    assert ours == expect, f"bookmark {ours} != {expect}"
    return int(rv)


# -- the checks ---------------------------------------------------------------

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"labels": {"app": "capture"}},
       "spec": {"containers": [{"name": "main",
                                "image": "registry.k8s.io/pause:3.10"}]}}


def make_pod(client, namespace, name):
    body = json.loads(json.dumps(POD))
    body["metadata"].update(name=name)
    body["metadata"]["labels"]["pod"] = name
    reply = client.post(f"/api/v1/namespaces/{namespace}/pods", body)
    assert reply.status == 201, f"create {name}: {reply.status} {reply.body}"
    return reply.json()


def wait_phase(c, path, phase, timeout=20):
    # Generous: the kubelet's steps come late on a loaded machine.
    deadline = time.monotonic() + timeout
    while c.get(path).json().get("status", {}).get("phase") != phase:
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never reached {phase}")
        time.sleep(0.05)


SETUP_PODS = (("capture-a", "p1"), ("capture-a", "p2"), ("capture-a", "p3"),
              ("capture-b", "q1"), ("capture-b", "q2"), ("default", "demo"))


def setup_objects(client):
    """The captures' cluster: capture-a/p1..p3, capture-b/q1,q2,
    default/demo, all Running (a late kubelet step would add MODIFIED
    events to the watches that expect exact event lists)."""
    for ns in ("capture-a", "capture-b"):
        reply = client.post("/api/v1/namespaces", {"metadata": {"name": ns}})
        assert reply.status == 201, reply.body
    for ns, name in SETUP_PODS:
        make_pod(client, ns, name)
    for ns, name in SETUP_PODS:
        wait_phase(client, f"/api/v1/namespaces/{ns}/pods/{name}",
                   "Running")


def t_version(c):
    theirs = capture_json("06-version")
    reply = c.get("/version", token=None)  # public to anonymous
    assert reply.status == 200
    ours = reply.json()
    assert list(ours) == list(theirs), list(ours)
    same_shape(ours, theirs)
    assert reply.body.startswith(b"{\n  \""), "/version is pretty-printed"


def t_unauthorized(c):
    reply = c.get("/api/v1/pods?limit=1", token="wrong")
    same_status(reply, "01-pods-list-bad-token")
    assert reply.json() == capture_json("01-pods-list-bad-token")


def t_anonymous(c):
    reply = c.get("/api/v1/pods?limit=1", token=None)
    same_status(reply, "01-pods-list-unauthenticated")
    assert reply.json() == capture_json("01-pods-list-unauthenticated")


def t_not_found(c):
    reply = c.get("/api/v1/namespaces/capture-a/pods/does-not-exist")
    same_status(reply, "01-pod-get-notfound")
    assert reply.json() == capture_json("01-pod-get-notfound")


def t_get(c):
    theirs = capture_json("01-pod-get")
    ours = c.get("/api/v1/namespaces/capture-a/pods/p1").json()
    assert ours["kind"] == "Pod" and ours["apiVersion"] == "v1"
    for key in ("name", "namespace", "uid", "resourceVersion",
                "creationTimestamp", "labels"):
        assert key in ours["metadata"], f"metadata.{key} missing"
        assert type(ours["metadata"][key]) is \
            type(theirs["metadata"][key]), key
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                        ours["metadata"]["creationTimestamp"])
    same_shape(ours["spec"]["containers"][0],
               theirs["spec"]["containers"][0])


def t_lists(c):
    check_list(c.get("/api/v1/pods"), "01-pods-list-all")
    check_list(c.get("/api/v1/namespaces/capture-a/pods"),
               "01-pods-list-namespaced")


def t_pagination(c):
    pages, path = [], "/api/v1/pods?limit=2"
    for n in (1, 2, 3):
        page = check_list(c.get(path), f"01-pods-list-limit2-page{n}")
        pages.append(page)
        if n < 3:
            path = "/api/v1/pods?limit=2&continue=" + \
                page["metadata"]["continue"]
    rvs = {p["metadata"]["resourceVersion"] for p in pages}
    assert len(rvs) == 1, f"pages at different RVs: {rvs}"


def t_expired_continue(c):
    first = check_list(c.get("/api/v1/pods?limit=2"),
                       "04-pods-list-limit2-before-compaction")
    token = first["metadata"]["continue"]
    c.post("/api/v1/namespaces/default/configmaps",
           {"metadata": {"name": "bump"}})  # so compaction passes the list
    c.sim("compact")
    reply = c.get("/api/v1/pods?limit=2&continue=" + token)
    ours = same_status(reply, "04-pods-list-expired-continue")
    new_token = decode_token(ours["metadata"]["continue"])
    assert new_token["rv"] == -1, new_token
    assert new_token["start"] == decode_token(token)["start"]
    rest = c.get("/api/v1/pods?limit=2&continue=" +
                 ours["metadata"]["continue"])
    check_list(rest, "04-pods-list-inconsistent-continue")
    reply = c.get("/api/v1/pods?limit=2&resourceVersion=5&continue=" + token)
    assert reply.status == 400 and reply.json()["reason"] == "BadRequest"


def watch_too_old(c, path, capture):
    reply = c.get(path)
    events = check_framing(reply)
    assert reply.terminated, "stream must end with the zero chunk"
    theirs = capture_events(capture)
    assert len(events) == 1 and events[0]["type"] == "ERROR", events
    ours = events[0]["object"]
    assert re.fullmatch(r"too old resource version: 1 \(\d+\)",
                        ours["message"]), ours["message"]
    ours = dict(ours, message=theirs[0]["object"]["message"])
    assert ours == theirs[0]["object"], ours


def t_watch_too_old(c):
    c.sim("compact")  # whatever ran before: RV 1 is now history
    watch_too_old(c, "/api/v1/pods?watch=1&resourceVersion=1"
                  "&allowWatchBookmarks=true", "03-watch-too-old-rv")
    watch_too_old(c, "/api/v1/namespaces/capture-a/pods?watch=1"
                  "&resourceVersion=1", "03-watch-too-old-rv-namespaced")
    c.sim("config", {"watch_expired_mode": "http"})
    try:
        reply = c.get("/api/v1/pods?watch=1&resourceVersion=1")
        assert reply.status == 410 and reply.chunks is None, reply.status
        body = reply.json()
        assert body["reason"] == "Expired" and body["code"] == 410
    finally:
        c.sim("config", {"watch_expired_mode": "event"})


def start_watch(port, path):
    """A --watch helper process: one raw watch, its bytes on stdout."""
    return subprocess.Popen([sys.executable, __file__, "--watch",
                             str(port), path], stdout=subprocess.PIPE)


def stop_watch(watch):
    """Kill a helper still running, so that a stuck watch (or a failed
    check) cannot leave it behind or hang the test."""
    if watch.poll() is None:
        watch.kill()
        watch.communicate()


def t_watch_bookmarks(c):
    """The 02 capture: create, label, delete a pod under a watch with
    bookmarks and a timeout; our kubelet adds its status updates."""
    rv = c.get("/api/v1/namespaces/capture-a/pods").json()["metadata"][
        "resourceVersion"]
    # The pre-timeout bookmark comes 1 s before the timeout; the whole
    # pod story must fit before it, even on a slow or loaded machine.
    watch = start_watch(
        c.port, f"/api/v1/namespaces/capture-a/pods?watch=1&"
        f"allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds=10")
    try:
        time.sleep(0.3)
        make_pod(c, "capture-a", "w1")
        path = "/api/v1/namespaces/capture-a/pods/w1"
        wait_phase(c, path, "Running")
        c.request("PATCH", path,
                  {"metadata": {"labels": {"touched": "yes"}}},
                  content_type="application/merge-patch+json")
        assert c.request("DELETE", path).status == 200
        out = watch.communicate(timeout=30)[0]
    finally:
        stop_watch(watch)
    reply = parse_reply(out)
    events = check_framing(reply)
    assert reply.terminated, "timeoutSeconds must end the stream cleanly"
    kinds = " ".join(e["type"] for e in events)
    assert re.fullmatch(r"ADDED( MODIFIED)+ DELETED( BOOKMARK)+", kinds), \
        kinds
    theirs = capture_events("02-watch-bookmarks")
    deleted = [e for e in events if e["type"] == "DELETED"][0]
    assert deleted["object"]["metadata"].get("deletionTimestamp"), \
        "graceful delete: DELETED carries deletionTimestamp"
    assert any(e["object"]["metadata"].get("deletionTimestamp")
               for e in events if e["type"] == "MODIFIED")
    rvs = [int(e["object"]["metadata"]["resourceVersion"])
           for e in events if e["type"] != "BOOKMARK"]
    assert rvs == sorted(set(rvs)), f"RVs not increasing: {rvs}"
    for ours in (e for e in events if e["type"] == "BOOKMARK"):
        assert bookmark_like(ours, theirs[-1]) >= rvs[-1]
    same_shape(events[0]["object"]["metadata"],
               theirs[0]["object"]["metadata"], ignore=("managedFields",))


def t_watch_rv0(c):
    reply = c.get("/api/v1/namespaces/capture-b/pods?watch=1"
                  "&resourceVersion=0&timeoutSeconds=1")
    events = check_framing(reply)
    theirs = capture_events("06-watch-rv0")
    assert [e["type"] for e in events] == [e["type"] for e in theirs]
    assert names(e["object"] for e in events) == \
        names(e["object"] for e in theirs)


def t_watchlist(c):
    reply = c.get("/api/v1/namespaces/capture-a/pods?watch=1"
                  "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                  "&allowWatchBookmarks=true&timeoutSeconds=1")
    events = check_framing(reply)
    theirs = capture_events("05-watchlist-sendInitialEvents-rv-unset")
    assert [e["type"] for e in events[:len(theirs)]] == \
        [e["type"] for e in theirs], [e["type"] for e in events]
    end = events[len(theirs) - 1]
    bookmark_like(end, theirs[-1])  # annotations and blueprint included
    added = [e for e in events[:len(theirs) - 1]]
    assert names(e["object"] for e in added) == \
        names(e["object"] for e in theirs[:-1])
    reply = c.get("/api/v1/pods?watch=1&sendInitialEvents=true"
                  "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")
    events = check_framing(reply)
    theirs = capture_events(
        "05-watchlist-sendInitialEvents-without-bookmarks")
    assert all(e["type"] == "ADDED" for e in events), "no end bookmark"
    assert set(names(e["object"] for e in theirs)) <= \
        set(names(e["object"] for e in events))


def t_watchlist_off(c):
    c.sim("config", {"watchlist": "off"})
    try:
        for name in ("05-watchlist-sendInitialEvents-rv-unset",
                     "05-watchlist-sendInitialEvents-without-bookmarks"):
            with open(os.path.join(CAPTURES, "watchlist-off",
                                   name + ".url")) as f:
                path = f.read().split()[1]
            reply = c.get(path)
            same_status(reply, "watchlist-off/" + name)
            assert reply.json() == capture_json("watchlist-off/" + name)
    finally:
        c.sim("config", {"watchlist": "on"})
    reply = c.get("/api/v1/pods?watch=1&sendInitialEvents=true")
    assert reply.status == 422 and "NotOlderThan" in reply.json()["message"]


def t_too_large(c):
    rv = int(c.get("/api/v1/pods").json()["metadata"]["resourceVersion"])
    reply = c.get(f"/api/v1/pods?resourceVersion={rv + 1000}&limit=5")
    assert reply.status == 504, reply.status
    body = reply.json()
    assert body["reason"] == "Timeout", body
    assert re.fullmatch(r"Timeout: Too large resource version: \d+, "
                        r"current: \d+", body["message"]), body["message"]
    assert body["details"]["causes"][0]["reason"] == \
        "ResourceVersionTooLarge"


def t_tls(c):
    assert c.get("/api/v1/namespaces", tls=True).status == 200
    assert c.get("/api/v1/namespaces", tls=True, token=None,
                 cert=True).status == 200
    assert c.get("/api/v1/namespaces", tls=True, token=None).status == 403


def close_watch(c, abrupt):
    """close-watches until it closes one: the helper's watch may take a
    while to open on a loaded machine."""
    deadline = time.monotonic() + 10
    while c.sim("close-watches", {"abrupt": abrupt})["closed"] < 1:
        assert time.monotonic() < deadline, \
            "close-watches found no open watch in 10 s"
        time.sleep(0.05)


def t_close_and_disconnect(c):
    base = "/api/v1/namespaces/capture-b/pods?watch=1&resourceVersion=0"
    for abrupt in (False, True):
        watch = start_watch(c.port, base)
        try:
            close_watch(c, abrupt)
            out = watch.communicate(timeout=30)[0]
        finally:
            stop_watch(watch)
        reply = parse_reply(out)
        assert reply.terminated is not abrupt, f"abrupt={abrupt}"
        assert len(check_framing(reply)) == 2
    c.sim("disconnect")
    try:
        reply = c.get("/api/v1/pods")
        assert reply.status == 503, reply.status
        assert reply.json()["reason"] == "ServiceUnavailable"
        assert c.post("/api/v1/namespaces/default/configmaps",
                      {"metadata": {"name": "offline"}}).status == 201
    finally:
        c.sim("reconnect")
    assert c.get("/api/v1/pods").status == 200


def t_request_log(c):
    log = c.get("/_sim/requests", token=None).json()
    assert any(e["method"] == "GET" and e["path"] == "/api/v1/pods" and
               e["query"] == {"limit": "2"} and e["status"] == 200
               for e in log), "request log misses GET /api/v1/pods?limit=2"
    assert not any(e["path"].startswith("/_sim/") for e in log)


CHECKS = [t_version, t_unauthorized, t_anonymous, t_not_found, t_get,
          t_lists, t_pagination, t_watch_rv0, t_watchlist, t_watchlist_off,
          t_watch_bookmarks, t_expired_continue, t_watch_too_old,
          t_too_large, t_tls, t_close_and_disconnect, t_request_log]


# -- running ------------------------------------------------------------------

def start_server(directory):
    proc, https, http, kubeconfig = sim_testing.start_kubesim(
        directory, "test_captures",
        ["--token", TOKEN, "--kubelet-delay", "0.1"])
    assert kubeconfig == os.path.join(directory, "kubeconfig")
    return proc, Client(http, https, directory)


def watch_main(port, path):
    """Helper mode: one raw watch request, its bytes to stdout."""
    client = Client(int(port), None, None)
    sock = client._connect(False, False)
    sock.settimeout(60)  # watches idle for up to 9 s; the test kills us
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 f"Authorization: Bearer {TOKEN}\r\n\r\n".encode())
    while True:
        try:
            part = sock.recv(65536)
        except ConnectionResetError:
            break
        if not part:
            break
        sys.stdout.buffer.write(part)
    sys.stdout.flush()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--watch":
        watch_main(sys.argv[2], sys.argv[3])
        return 0
    with tempfile.TemporaryDirectory(prefix="kubesim-test-") as directory:
        proc, client = start_server(directory)
        try:
            setup_objects(client)
        except BaseException:
            proc.kill()
            raise
        return sim_testing.run_checks("test_captures", proc, CHECKS,
                                      client)

if __name__ == "__main__":
    sys.exit(main())
