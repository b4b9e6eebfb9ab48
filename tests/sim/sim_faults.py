"""Fault injection: /_sim/faults makes chosen API requests fail the ways
real servers and networks fail (error statuses, broken, stalled or oddly
chunked streams, endless pagination), so that clients' recovery paths
can be tested. README.md describes the format of a fault.

Faults are tried in the order they were added. The first one that
matches a request and can act on it answers it, and its count goes down
by one. Lists and watches are checked first as usual (path, query, 503
while disconnected), so a request that fails anyway uses up no fault.
"""

import itertools
import json
import socket
import threading
import time

import sim_rest
import sim_status
from sim_list import encode_continue, read_list
from sim_status import ApiError
from sim_watch import POLL, WatchStream, client_alive

LIST, WATCH, OTHER = "list", "watch", "other"  # kinds of request
MATCHES = (LIST, WATCH, "any")

NOT_JSON = b"this is not json\n"
# kube-apiserver's overload answer is Go's http.Error: plain text, "\n".
TOO_MANY = "Too many requests, please try again later."
LIVE_WAIT = 0.5  # how long a short watch fault waits for live events
SPLIT_SIZES = (3, 5, 7, 4, 6)  # split_events: bytes per piece, in turn
SPLIT_DELAY = 0.005  # split_events: seconds between two pieces


# -- what a fault may say ----------------------------------------------------

def _is_true(value):
    return value is True


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) \
        and value >= 0


def _is_seconds(value):
    return isinstance(value, (int, float)) and \
        not isinstance(value, bool) and value >= 0


def _is_code(value):
    return _is_count(value) and 400 <= value <= 599


def _is_retry_after(value):
    # A string lets tests send an HTTP date or junk.
    return value is None or _is_count(value) or isinstance(value, str)


# action -> (kinds of request it acts on, check of its value, what the
# value must be)
ACTIONS = {
    "status": ((LIST, WATCH, OTHER), _is_code, "an HTTP code 400-599"),
    "stall": ((LIST, WATCH, OTHER), _is_seconds, "seconds"),
    "garbage_after": ((LIST, WATCH), _is_count, "a count"),
    "cut_after": ((LIST, WATCH), _is_count, "a count"),
    "error_event": ((WATCH,), lambda v: isinstance(v, dict), "an object"),
    "half_line_then_stall": ((WATCH,), _is_seconds, "seconds"),
    "split_events": ((WATCH,), _is_true, "true"),
    "close_immediately": ((WATCH,), _is_true, "true"),
    "repeat_continue": ((LIST,), _is_true, "true"),
}

# option -> (the action it goes with, check, what it must be)
OPTIONS = {
    "retry_after": ("status", _is_retry_after, "seconds or a string"),
    "message": ("status", lambda v: isinstance(v, str), "a string"),
    "split_delay": ("split_events", _is_seconds, "seconds"),
}


class Fault:
    """One fault as posted to /_sim/faults, checked."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault must be a JSON object")
        unknown = set(spec) - {"match", "path_prefix", "count"} \
            - set(ACTIONS) - set(OPTIONS)
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
        actions = [name for name in ACTIONS if name in spec]
        if len(actions) != 1:
            raise ValueError("a fault needs exactly one action of: " +
                             ", ".join(ACTIONS))
        self.action = actions[0]
        self.value = _checked(spec, self.action, ACTIONS[self.action][1:])
        self.kinds = ACTIONS[self.action][0]
        self.match = spec.get("match")
        if self.match not in MATCHES:
            raise ValueError('match must be "list", "watch" or "any"')
        if self.match != "any" and self.match not in self.kinds:
            raise ValueError(f"{self.action} cannot act on a {self.match}")
        self.path_prefix = spec.get("path_prefix", "")
        if not isinstance(self.path_prefix, str):
            raise ValueError("path_prefix must be a string")
        self.count = spec.get("count", 1)
        if not _is_count(self.count) or self.count < 1:
            raise ValueError("count must be a positive integer")
        self.options = {}
        for name, (owner, *check) in OPTIONS.items():
            if name in spec:
                if owner != self.action:
                    raise ValueError(f"{name} goes with {owner} only")
                self.options[name] = _checked(spec, name, check)

    def fits(self, kind, path):
        return kind in self.kinds and self.match in (kind, "any") and \
            path.startswith(self.path_prefix)

    def describe(self):
        return dict({"match": self.match, "path_prefix": self.path_prefix,
                     "count": self.count, self.action: self.value},
                    **self.options)


def _checked(spec, name, check):
    test, what = check
    if not test(spec[name]):
        raise ValueError(f"{name} must be {what}")
    return spec[name]


class Faults:
    """The pending faults, shared by all request threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending = []

    def add(self, specs):
        """Append faults; all or none (raises ValueError)."""
        if not isinstance(specs, list):
            raise ValueError('"faults" must be a list')
        new = []
        for i, spec in enumerate(specs):
            try:
                new.append(Fault(spec))
            except ValueError as err:
                raise ValueError(f"faults[{i}]: {err}") from None
        with self.lock:
            self.pending.extend(new)

    def describe(self):
        with self.lock:
            return [fault.describe() for fault in self.pending]

    def clear(self):
        with self.lock:
            count = len(self.pending)
            self.pending.clear()
        return count

    def any_pending(self):
        return bool(self.pending)  # a racy peek is fine: take() locks

    def take(self, kind, path):
        """The first fault that fits, its count used; or None."""
        with self.lock:
            for fault in self.pending:
                if fault.fits(kind, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self.pending.remove(fault)
                    return fault
        return None


# -- answering ---------------------------------------------------------------

def intercept(sim, req, info):
    """Answer a resource request with a pending fault if one fits it.
    -> True if a fault answered."""
    if not sim.faults.any_pending():
        return False
    kind = info.verb if info.verb in (LIST, WATCH) else OTHER
    target = None
    if kind != OTHER:
        target = sim_rest.read_target(sim, req, info)
    fault = sim.faults.take(kind, req.path)
    if fault is None:
        return False
    req.handler.request_log["fault"] = fault.action
    FaultAnswer(sim, req, info, kind, target, fault).serve()
    return True


class FaultAnswer:
    """One request answered the way its fault says. For lists and
    watches, target is (resource, namespace, selector predicate)."""

    def __init__(self, sim, req, info, kind, target, fault):
        self.sim = sim
        self.req = req
        self.handler = req.handler
        self.info = info
        self.kind = kind
        self.target = target
        self.fault = fault

    def serve(self):
        # One method per action, named after it.
        getattr(self, "_" + self.fault.action)()

    # -- error statuses ------------------------------------------------------

    def _status(self):
        code, options = self.fault.value, self.fault.options
        # The real server always sends Retry-After: 1 with its 429.
        retry = options.get("retry_after", 1 if code == 429 else None)
        headers = {} if retry is None else {"Retry-After": str(retry)}
        if code == 429:
            text = options.get("message", TOO_MANY) + "\n"
            headers["X-Content-Type-Options"] = "nosniff"
            self.handler.send_body(429, text.encode(),
                                   "text/plain; charset=utf-8", headers)
            return
        err = status_error(code, options.get("message"), self.info,
                           self.req.user)
        details = err.details
        if _is_count(retry):  # as NewTooManyRequests and friends do
            details = dict(details or {}, retryAfterSeconds=retry)
        body = sim_status.status_body(code, err.reason, err.message,
                                      details)
        self.handler.send_json(code, body, headers)

    # -- broken answers ------------------------------------------------------

    def _garbage_after(self):
        if self.kind == LIST:
            self.handler.send_body(200, NOT_JSON)
            return

        def body(out):
            self._send_events(self.fault.value, out.chunk)
            out.chunk(NOT_JSON)
            return "clean"
        self._stream(body)

    def _cut_after(self):
        if self.kind == LIST:
            self._cut_list()
            return

        def body(out):
            self._send_events(self.fault.value, out.chunk)
            return "abrupt"
        self._stream(body)

    def _cut_list(self):
        """The list's headers and half its body, then hang up."""
        data = self._list_bytes()
        handler = self.handler
        handler.streaming = True  # nothing else may be answered now
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data[:len(data) // 2])
        except OSError:
            pass
        _hang_up(handler)

    def _error_event(self):
        def body(out):
            out.chunk(_event_line("ERROR", status_object(self.fault.value)))
            return "clean"
        self._stream(body)

    def _close_immediately(self):
        self._stream(lambda out: "clean")

    def _repeat_continue(self):
        """A page that points at itself, so that paging never ends."""
        res, namespace, pred = self.target
        meta, page = read_list(self.sim, self.req, res, namespace, pred)
        given = self.req.query.get("continue")
        # On the first page: a valid token that starts the list over.
        meta["continue"] = given or encode_continue(
            int(meta["resourceVersion"]), "")
        self.handler.send_json(
            200, sim_rest.list_answer(self.req, res, meta, page))

    # -- silent connections --------------------------------------------------

    def _stall(self):
        def body(out):
            _linger(out.sock, self.fault.value)
            return "abrupt"
        self._stream(body)

    def _half_line_then_stall(self):
        def body(out):
            lines = []
            self._send_events(1, lines.append)
            out.chunk(lines[0][:len(lines[0]) // 2])
            _linger(out.sock, self.fault.value)
            return "abrupt"
        self._stream(body)

    # -- a normal watch, oddly chunked ---------------------------------------

    def _split_events(self):
        stream = WatchStream(self.sim, self.req, *self.target)
        lines, error = stream.begin()
        if error is not None:
            if self.sim.knobs.watch_expired_mode == "http":
                raise error
            lines = [_event_line("ERROR", error.body())]

        def body(out):
            split = SplitOut(out, self.fault.options.get("split_delay",
                                                         SPLIT_DELAY))
            split.lines(lines)
            return "clean" if error is not None else stream.run(split)
        try:
            self._stream(body)
        finally:
            stream.stop()

    # -- helpers -------------------------------------------------------------

    def _stream(self, body):
        """A 200 chunked stream whose content body(out) writes; it returns
        how the stream ends (a ChunkOut.end mode)."""
        out = self.handler.start_stream()
        try:
            mode = body(out)
        except OSError:
            mode = "gone"  # the client left
        out.end(mode)

    def _send_events(self, count, emit):
        """emit(line) count watch event lines: those the watch starts with
        (initial or replayed ones, or its ERROR), then live ones for up to
        LIVE_WAIT; BOOKMARKs at the current RV make up the rest."""
        if count == 0:
            return
        stream = WatchStream(self.sim, self.req, *self.target)
        lines, error = stream.begin()
        try:
            if error is not None:
                lines = [_event_line("ERROR", error.body())]
            elif len(lines) < count:
                lines += _live_lines(stream, count - len(lines))
            for line in lines[:count]:
                emit(line)
        finally:
            stream.stop()
        with self.sim.store.cond:
            rv = self.sim.store.rv
        for _ in range(count - len(lines)):
            emit(stream.bookmark(rv))

    def _list_bytes(self):
        res, namespace, pred = self.target
        meta, page = read_list(self.sim, self.req, res, namespace, pred)
        doc = sim_rest.list_answer(self.req, res, meta, page)
        return doc if isinstance(doc, bytes) else _json(doc)


def _live_lines(stream, wanted):
    """Up to wanted event lines that the watch gets within LIVE_WAIT."""
    store, queue = stream.sim.store, stream.watcher.queue
    deadline = time.monotonic() + LIVE_WAIT
    lines = []
    with store.cond:
        while len(lines) < wanted:
            if queue:
                line = stream.translate(queue.popleft())
                if line:
                    lines.append(line)
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            store.cond.wait(left)
    return lines


def _linger(sock, seconds):
    """Keep the connection open and silent for seconds, or until the
    client leaves."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not client_alive(sock):
            return
        time.sleep(min(left, POLL))


def _hang_up(handler):
    """Close the connection in the middle of an answer."""
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _json(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def _event_line(kind, obj):
    return _json({"type": kind, "object": obj}) + b"\n"


class SplitOut:
    """A watch's chunk writer that sends each event line in pieces of a
    few bytes, each its own chunk and a little apart, so that clients
    must put lines together from several reads. Of the lines a watch
    starts with, every second turn sends two whole lines in one chunk
    instead, so that clients must also split chunks into lines."""

    def __init__(self, out, delay):
        self.out = out
        self.sock = out.sock  # WatchStream.run checks the client with it
        self.delay = delay
        self.sizes = itertools.cycle(SPLIT_SIZES)
        self.turn = 0

    def chunk(self, line):
        pos = 0
        while pos < len(line):
            size = next(self.sizes)
            self.out.chunk(line[pos:pos + size])
            pos += size
            time.sleep(self.delay)

    def lines(self, lines):
        """Lines known at once: pieces and pairs, in turn."""
        i = 0
        while i < len(lines):
            self.turn += 1
            if self.turn % 2 == 0 and i + 1 < len(lines):
                self.out.chunk(lines[i] + lines[i + 1])
                i += 2
            else:
                self.chunk(lines[i])
                i += 1


# -- Status bodies -----------------------------------------------------------

# code -> the error a real server sends with it, when the fault names no
# other message.
_ERRORS = {
    400: lambda info, user: sim_status.bad_request(
        "the server rejected our request for an unknown reason"),
    401: lambda info, user: sim_status.unauthorized(),
    403: lambda info, user: sim_status.forbidden(
        user or "system:anonymous", info),
    404: lambda info, user: sim_status.path_not_found(),
    405: lambda info, user: sim_status.method_not_allowed(),
    406: lambda info, user: sim_status.not_acceptable(),
    409: lambda info, user: ApiError(409, "Conflict",
                                     "the server reported a conflict"),
    410: lambda info, user: _expired(info),
    415: lambda info, user: sim_status.unsupported_media_type(
        ["application/json"]),
    422: lambda info, user: ApiError(
        422, "Invalid", "the server rejected our request due to an error "
        "in our request"),
    503: lambda info, user: sim_status.service_unavailable(),
    # The request-timeout filter's text (NewTimeoutError).
    504: lambda info, user: ApiError(
        504, "Timeout", "Timeout: request did not complete within "
        "requested timeout - context deadline exceeded", {}),
}


def _expired(info):
    if info.verb == WATCH:
        return ApiError(410, "Expired", "The resourceVersion for the "
                        "provided watch is too old.")
    return sim_status.list_too_old()


def status_error(code, message, info, user):
    """The ApiError for a status fault: the real reason for the code and
    its usual text, or message instead of the text. For 500, message is
    the error inside "Internal error occurred: ..."."""
    if code == 500:
        return sim_status.internal_error(message or "kubesim: injected "
                                         "fault")
    make = _ERRORS.get(code)
    if make is None:  # no reason of its own: as client-go would word it
        err = ApiError(code, None, f"the server responded with the status "
                       f"code {code} but did not return more information",
                       {})
    else:
        err = make(info, user)
    if message is not None:
        err.message = message
    return err


_STATUS_KEYS = ("kind", "apiVersion", "metadata", "status", "message",
                "reason", "details", "code")


def status_object(fields):
    """A Status from an error_event's fields, with what every Status has
    filled in, keys in the real server's order."""
    full = dict({"kind": "Status", "apiVersion": "v1", "metadata": {},
                 "status": "Failure"}, **fields)
    ordered = {key: full.pop(key) for key in _STATUS_KEYS if key in full}
    ordered.update(full)
    return ordered
