"""Object storage: one global resourceVersion, a bounded event history for
watches and past snapshots, and the set of open watches to wake.

All state sits under one lock (self.cond, a Condition over an RLock). Stored
objects are never modified in place: every write stores a new dict, so an
Entry may be read and encoded outside the lock.
"""

import collections
import json
import threading

from sim_status import list_too_old, watch_too_old

_COMPACT = (",", ":")


def dumps(obj):
    return json.dumps(obj, separators=_COMPACT).encode()


class Entry:
    """One stored version of an object, with its encodings cached."""

    __slots__ = ("obj", "rv", "_full", "_item")

    def __init__(self, obj):
        self.obj = obj
        self.rv = int(obj["metadata"]["resourceVersion"])
        self._full = None
        self._item = None

    def full_json(self):
        """With kind and apiVersion, as in GET answers and watch events."""
        if self._full is None:
            self._full = dumps(self.obj)
        return self._full

    def item_json(self):
        """Without kind and apiVersion, as built-in kinds' list items."""
        if self._item is None:
            self._item = dumps({k: v for k, v in self.obj.items()
                                if k not in ("kind", "apiVersion")})
        return self._item


Event = collections.namedtuple("Event", "rv res key type entry prev")


class Watcher:
    """An open watch: the events queued for it and how it should end."""

    def __init__(self, res, path, query):
        self.res = res
        self.path = path
        self.query = query
        self.queue = collections.deque()
        self.closing = None  # None, "clean" or "abrupt"


def object_key(namespace, name):
    return f"{namespace}/{name}" if namespace else name


class Store:
    def __init__(self, history=1000):
        self.cond = threading.Condition(threading.RLock())
        self.rv = 0
        self.floor = 0  # watches and lists older than this get 410
        self.history_limit = max(1, history)
        self.history = collections.deque()
        self.objects = {}  # Resource -> {key: Entry}
        self._sorted = {}  # Resource -> sorted keys, None when stale
        self.watchers = set()

    # -- reads -------------------------------------------------------------

    def get(self, res, key):
        with self.cond:
            return self.objects.get(res, {}).get(key)

    def sorted_keys(self, res):
        with self.cond:
            keys = self._sorted.get(res)
            if keys is None:
                keys = sorted(self.objects.get(res, {}))
                self._sorted[res] = keys
            return keys

    def snapshot(self, res, at_rv=None):
        """(keys in order, {key: Entry}) as of at_rv (None: now). Rolls the
        history back; raises 410 when it no longer reaches at_rv. The
        current table is live: read it under the lock."""
        with self.cond:
            current = self.objects.get(res, {})
            if at_rv is None or at_rv >= self.rv:
                return self.sorted_keys(res), current
            if at_rv < self.floor:
                raise list_too_old()
            state = dict(current)
            for ev in reversed(self.history):
                if ev.rv <= at_rv:
                    break
                if ev.res is not res:
                    continue
                if ev.type == "ADDED":
                    state.pop(ev.key, None)
                else:
                    state[ev.key] = ev.prev
            return sorted(state), state

    def events_since(self, res, rv):
        """History events of res after rv; 410 if rv is compacted away."""
        with self.cond:
            if rv < self.floor:
                raise watch_too_old(rv, self.floor)
            out = []
            for ev in reversed(self.history):
                if ev.rv <= rv:
                    break
                if ev.res is res:
                    out.append(ev)
            out.reverse()
            return out

    def wait_for_rv(self, rv, timeout):
        """Wait until the store reaches rv; True if it did."""
        with self.cond:
            return self.cond.wait_for(lambda: self.rv >= rv, timeout)

    # -- writes ------------------------------------------------------------

    def register(self, res):
        with self.cond:
            self.objects.setdefault(res, {})

    def put(self, res, key, obj):
        """Store obj (its metadata.resourceVersion is set here); ADDED or
        MODIFIED by whether key existed. Returns the new Entry."""
        with self.cond:
            table = self.objects.setdefault(res, {})
            prev = table.get(key)
            self.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.rv)
            entry = Entry(obj)
            table[key] = entry
            if prev is None:
                self._sorted[res] = None
            self._commit(Event(self.rv, res, key,
                               "MODIFIED" if prev else "ADDED", entry, prev))
            return entry

    def remove(self, res, key):
        """Delete key; the DELETED event carries the last state at the
        deletion's resourceVersion. Returns that Entry (None if absent)."""
        with self.cond:
            table = self.objects.get(res, {})
            prev = table.pop(key, None)
            if prev is None:
                return None
            self._sorted[res] = None
            self.rv += 1
            obj = dict(prev.obj)
            obj["metadata"] = dict(obj["metadata"],
                                   resourceVersion=str(self.rv))
            entry = Entry(obj)
            self._commit(Event(self.rv, res, key, "DELETED", entry, prev))
            return entry

    def _commit(self, ev):
        self.history.append(ev)
        self._trim_history()
        for w in self.watchers:
            if w.res is ev.res:
                w.queue.append(ev)
        self.cond.notify_all()

    def _trim_history(self):
        while len(self.history) > self.history_limit:
            old = self.history.popleft()
            # The oldest event a watch can still start after.
            self.floor = max(self.floor, old.rv)

    def set_history(self, limit):
        with self.cond:
            self.history_limit = max(1, int(limit))
            self._trim_history()

    def compact(self, floor=None):
        """Forget history up to floor (default: now)."""
        with self.cond:
            floor = self.rv if floor is None else min(int(floor), self.rv)
            self.floor = max(self.floor, floor)
            while self.history and self.history[0].rv <= self.floor:
                self.history.popleft()
            return self.floor

    # -- watches -----------------------------------------------------------

    def add_watcher(self, watcher):
        with self.cond:
            self.watchers.add(watcher)

    def remove_watcher(self, watcher):
        with self.cond:
            self.watchers.discard(watcher)

    def close_watchers(self, mode, path_prefix=""):
        with self.cond:
            hit = [w for w in self.watchers if w.closing is None
                   and w.path.startswith(path_prefix)]
            for w in hit:
                w.closing = mode
            self.cond.notify_all()
            return len(hit)
