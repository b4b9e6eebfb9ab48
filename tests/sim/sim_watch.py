"""WATCH: a chunked stream of JSON events, one per line and per chunk.

A watch registers a Watcher with the store in the same locked step as it
reads its starting point (a snapshot or the history after RV N), so no
event falls between the two. Writes append events to every watcher's
queue and wake all watchers; each watch thread drains its queue, filters
the events through its namespace and selectors, and writes them out.
"""

import json
import random
import select
import socket
import ssl
import time

import sim_status
import sim_table
from sim_list import flag, parse_rv
from sim_store import Watcher

POLL = 0.5  # how often an idle watch checks that its client is still there


def _line(kind, obj_json):
    return b'{"type":"' + kind.encode() + b'","object":' + obj_json + b"}\n"


def _json(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


class WatchStream:
    """One open watch: its filter, timers and output."""

    def __init__(self, sim, req, res, namespace, pred):
        self.sim = sim
        self.req = req
        self.res = res
        self.namespace = namespace
        self.pred = pred
        q = req.query
        self.bookmarks = flag(q.get("allowWatchBookmarks"))
        self.sie = q.get("sendInitialEvents")
        self.send_initial = flag(self.sie) if self.sie is not None else None
        knobs = sim.knobs
        self.timeout = parse_rv(q.get("timeoutSeconds") or "0",
                                "timeoutSeconds")
        if not self.timeout:  # like --min-request-timeout: [T, 2T)
            self.timeout = knobs.watch_timeout * (1 + random.random())
        self.start = time.monotonic()
        self.deadline = self.start + self.timeout
        self.next_bookmark = self.start + self._interval()
        self.pre_timeout_bookmark = self.bookmarks and self.timeout > 0
        self.watcher = Watcher(res, req.path, q)
        # kubectl get -w asks for Tables; only the first carries columns.
        self.table = sim_table.wanted_table(req.headers.get("Accept"))
        self.include = q.get("includeObject", "Metadata")
        self.columns_sent = False

    # -- filtering ---------------------------------------------------------

    def _matches(self, entry):
        if entry is None:
            return False
        obj = entry.obj
        if self.namespace and \
                obj["metadata"].get("namespace") != self.namespace:
            return False
        return self.pred is None or self.pred(obj)

    def _encode(self, entry=None, obj=None):
        if self.table is None:
            return entry.full_json() if entry is not None else _json(obj)
        obj = entry.obj if entry is not None else obj
        doc = sim_table.table(
            self.res, self.table, [obj],
            {"resourceVersion": obj["metadata"]["resourceVersion"]},
            self.include, headers=not self.columns_sent)
        self.columns_sent = True
        return _json(doc)

    def translate(self, ev):
        """A store Event -> the line this watch sends, or None. Objects
        that start or stop matching arrive as ADDED or DELETED."""
        if ev.type == "DELETED":
            return _line("DELETED", self._encode(ev.entry)) \
                if self._matches(ev.entry) else None
        now_ok = self._matches(ev.entry)
        was_ok = ev.type == "MODIFIED" and self._matches(ev.prev)
        if now_ok:
            return _line("MODIFIED" if was_ok else "ADDED",
                         self._encode(ev.entry))
        if was_ok:  # last matching state, at the event's version
            obj = dict(ev.prev.obj)
            obj["metadata"] = dict(obj["metadata"],
                                   resourceVersion=str(ev.rv))
            return _line("DELETED", self._encode(obj=obj))
        return None

    def bookmark(self, rv, annotations=None):
        return _line("BOOKMARK",
                     _json(self.res.bookmark_object(str(rv), annotations)))

    # -- start -------------------------------------------------------------

    def begin(self):
        """Read the starting point and register. -> (lines, error)."""
        q, store = self.req.query, self.sim.store
        rv_text = q.get("resourceVersion") or ""
        wanted = parse_rv(rv_text) if rv_text not in ("", "0") else None
        if wanted is not None and not store.wait_for_rv(
                wanted, self.sim.knobs.too_large_wait):
            return [], sim_status.too_large_rv(wanted, store.rv)
        with store.cond:
            if self.send_initial or (self.sie is None and wanted is None):
                return self._begin_with_state(), None
            start = store.rv if wanted is None else wanted
            try:
                events = store.events_since(self.res, start)
            except sim_status.ApiError as err:
                return [], err
            store.add_watcher(self.watcher)
            return [line for line in map(self.translate, events) if line], \
                None

    def _begin_with_state(self):
        """Synthetic ADDED for every current match (and for streaming
        lists the initial-events-end bookmark)."""
        store = self.sim.store
        keys, table = store.snapshot(self.res)
        lines = [_line("ADDED", self._encode(table[k])) for k in keys
                 if self._matches(table[k])]
        if self.send_initial and self.bookmarks:
            lines.append(self.bookmark(store.rv, {
                "k8s.io/initial-events-end": "true",
                "kubernetes.io/initial-events-list-blueprint":
                    self.res.list_blueprint()}))
        store.add_watcher(self.watcher)
        return lines

    # -- loop --------------------------------------------------------------

    def _interval(self):
        return max(0.05, self.sim.knobs.bookmark_interval)

    def _next_wake(self):
        due = self.deadline
        if self.bookmarks:
            due = min(due, self.next_bookmark)
            if self.pre_timeout_bookmark:
                due = min(due, self.deadline -
                          self.sim.knobs.bookmark_before_timeout)
        return due

    def _wait(self):
        """Block until events, a close request or a timer. -> (lines,
        closing, store rv when drained)."""
        store, w = self.sim.store, self.watcher
        with store.cond:
            if not w.queue and w.closing is None:
                wait = self._next_wake() - time.monotonic()
                if wait > 0:
                    store.cond.wait(min(wait, POLL))
            events = list(w.queue)
            w.queue.clear()
            return events, w.closing, store.rv

    def _timers(self, rv):
        """Bookmark and timeout lines due now; True once timed out."""
        now, out = time.monotonic(), []
        if self.bookmarks:
            before = self.deadline - self.sim.knobs.bookmark_before_timeout
            if self.pre_timeout_bookmark and now >= before:
                self.pre_timeout_bookmark = False
                out.append(self.bookmark(rv))
            elif now >= self.next_bookmark:
                out.append(self.bookmark(rv))
            if now >= self.next_bookmark:
                self.next_bookmark = now + self._interval()
        return out, now >= self.deadline

    def run(self, out):
        """Stream until timeout, a close request or the client leaves.
        out is the handler's chunk writer."""
        last_check = time.monotonic()
        while True:
            events, closing, rv = self._wait()
            for ev in events:
                line = self.translate(ev)
                if line:
                    out.chunk(line)
            if closing:
                return closing
            lines, timed_out = self._timers(rv)
            for line in lines:
                out.chunk(line)
            if timed_out:
                return "clean"
            if time.monotonic() - last_check >= POLL:
                last_check = time.monotonic()
                if not client_alive(out.sock):
                    return "gone"

    def stop(self):
        self.sim.store.remove_watcher(self.watcher)


def client_alive(sock):
    """False once the client has closed its end (checked without taking
    any request bytes a well-behaved watch client would not send)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return True
        if isinstance(sock, ssl.SSLSocket):
            old = sock.gettimeout()
            sock.settimeout(0.05)
            try:
                return sock.recv(1) != b""
            finally:
                sock.settimeout(old)
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
        return True
    except (OSError, ValueError):
        return False


def serve_watch(sim, req, res, namespace, pred):
    stream = WatchStream(sim, req, res, namespace, pred)
    lines, error = stream.begin()
    if error is not None and sim.knobs.watch_expired_mode == "http":
        raise error
    out = req.handler.start_stream()
    try:
        if error is not None:
            out.chunk(_line("ERROR", _json(error.body())))
            out.end("clean")
            return
        for line in lines:
            out.chunk(line)
        out.end(stream.run(out))
    except OSError:
        out.end("gone")  # the client went away: nothing to tell anyone
    finally:
        stream.stop()
