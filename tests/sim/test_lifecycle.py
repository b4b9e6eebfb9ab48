#!/usr/bin/env python3
"""Checks how kubesim's state moves on over time: events age out of the
bounded watch history (old resourceVersions get 410, recent ones still
replay), and the simulated kubelet walks a pod through creation and
graceful deletion one watch event per step, in a fixed order.

Exit 0 when every check passes; prints one summary line.
"""

import http.client
import json
import sys
import tempfile

import sim_testing

TOKEN = "lifecycle-token-0123"
HISTORY = 5  # a small bound: a few writes push old RVs out
NAMESPACE = "history"
CONFIGMAPS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
PODS = "/api/v1/namespaces/default/pods"
NODE = "sim-node-1"


# -- talking to kubesim -------------------------------------------------------

class Server:
    def __init__(self, port):
        self.port = port

    def _connect(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)

    def request(self, method, path, body=None, token=TOKEN):
        """(status, JSON answer) over a connection of its own."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn = self._connect()
        try:
            conn.request(method, path,
                         None if body is None else json.dumps(body),
                         headers)
            reply = conn.getresponse()
            return reply.status, json.loads(reply.read())
        finally:
            conn.close()

    def get(self, path):
        status, answer = self.request("GET", path)
        assert status == 200, f"GET {path}: {status} {answer}"
        return answer

    def create(self, path, body):
        """POST; -> the new object's resourceVersion, as an int."""
        status, answer = self.request("POST", path, body)
        assert status == 201, f"POST {path}: {status} {answer}"
        return int(answer["metadata"]["resourceVersion"])

    def control(self, what, body=None):
        status, answer = self.request("POST", "/_sim/" + what, body or {},
                                      token=None)
        assert status == 200, f"/_sim/{what}: {status} {answer}"
        return answer

    def watch(self, path):
        return Watch(self._connect(timeout=10), path)


class Watch:
    """An open watch, read one event at a time as the server sends it."""

    def __init__(self, conn, path):
        self.conn = conn
        conn.request("GET", path,
                     headers={"Authorization": f"Bearer {TOKEN}"})
        self.reply = conn.getresponse()
        assert self.reply.status == 200, f"watch: HTTP {self.reply.status}"

    def next(self):
        """The next event; None once the stream has ended."""
        line = self.reply.readline()
        return json.loads(line) if line else None

    def rest(self):
        """Every event until the server ends the stream."""
        events = []
        while (event := self.next()) is not None:
            events.append(event)
        return events

    def close(self):
        self.conn.close()


def watch_all(s, path):
    """The events of a watch that ends by itself (an error or a timeout)."""
    watch = s.watch(path)
    try:
        return watch.rest()
    finally:
        watch.close()


def names(objects):
    return [o["metadata"]["name"] for o in objects]


# -- the bounded history ------------------------------------------------------

def expect_410(s, path, message):
    status, answer = s.request("GET", path)
    assert status == 410, f"{path}: HTTP {status}"
    assert (answer["reason"], answer["code"], answer["message"]) == \
        ("Expired", 410, message), answer


def t_history_bound(s):
    """HISTORY + 2 writes: the first two fall out of the history."""
    s.control("config", {"history": HISTORY})
    try:
        s.create("/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
        old = s.create(CONFIGMAPS, {"metadata": {"name": "old"}})
        for n in range(1, HISTORY + 2):
            last = s.create(CONFIGMAPS, {"metadata": {"name": f"h{n}"}})
        # Nothing else writes meanwhile: the oldest event a watch can
        # still start after is the one just before the last HISTORY.
        floor = last - HISTORY
        assert old < floor, (old, floor)
        check_old_watch(s, old, floor)
        check_recent_watch(s, floor)
        check_lists(s, old, floor)
        assert s.control("config")["floor"] == str(floor)
    finally:
        s.control("config", {"history": 1000})


def check_old_watch(s, old, floor):
    # The timeout only ends a stream that wrongly replays the history.
    events = watch_all(s, f"{CONFIGMAPS}?watch=1&resourceVersion={old}"
                          "&timeoutSeconds=2")
    assert events == [{"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure",
        "message": f"too old resource version: {old} ({floor})",
        "reason": "Expired", "code": 410}}], \
        [(e["type"], e["object"].get("message") or
          e["object"]["metadata"].get("name")) for e in events]


def check_recent_watch(s, floor):
    """From the floor itself: every event still held, nothing else."""
    events = watch_all(s, f"{CONFIGMAPS}?watch=1&resourceVersion={floor}"
                          "&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ADDED"] * HISTORY, events
    assert names(e["object"] for e in events) == \
        [f"h{n}" for n in range(2, HISTORY + 2)]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == list(range(floor + 1, floor + HISTORY + 1)), rvs


def check_lists(s, old, floor):
    """Exact reads (limit, or Exact) need the history; others do not."""
    too_old = "The resourceVersion for the provided list is too old."
    expect_410(s, f"{CONFIGMAPS}?limit=2&resourceVersion={old}", too_old)
    expect_410(s, f"{CONFIGMAPS}?resourceVersion={old}"
                  "&resourceVersionMatch=Exact", too_old)
    page = s.get(f"{CONFIGMAPS}?limit=10&resourceVersion={floor}")
    assert page["metadata"] == {"resourceVersion": str(floor)}, page
    assert names(page["items"]) == ["h1", "old"], names(page["items"])
    # Not older than: served from the current state.
    now = s.get(f"{CONFIGMAPS}?resourceVersion={old}")
    assert names(now["items"]) == \
        [f"h{n}" for n in range(1, HISTORY + 2)] + ["old"]


# -- the kubelet --------------------------------------------------------------

POD = {"metadata": {"name": "walker"},
       "spec": {"containers": [{"name": "main", "image": "nginx:1.27"},
                               {"name": "side", "image": "busybox:1.36"}]}}


def state(container):
    """"running", or "waiting:REASON" / "terminated:REASON"."""
    (kind, detail), = container["state"].items()
    return f"{kind}:{detail['reason']}" if "reason" in detail else kind


def step(event):
    """What the kubelet changes, in one tuple per event: type, phase,
    node, container states, whether deletionTimestamp is set."""
    pod = event["object"]
    status = pod.get("status", {})
    return (event["type"], status.get("phase"), pod["spec"].get("nodeName"),
            tuple(state(c) for c in status.get("containerStatuses", [])),
            "deletionTimestamp" in pod["metadata"])


CREATED = [
    ("ADDED", "Pending", None, (), False),
    ("MODIFIED", "Pending", NODE, (), False),
    ("MODIFIED", "Pending", NODE, ("waiting:ContainerCreating",) * 2, False),
    ("MODIFIED", "Running", NODE, ("running",) * 2, False)]

DELETED = [
    ("MODIFIED", "Running", NODE, ("running",) * 2, True),
    ("MODIFIED", "Succeeded", NODE, ("terminated:Completed",) * 2, True),
    ("DELETED", "Succeeded", NODE, ("terminated:Completed",) * 2, True)]


def read_steps(watch, count):
    """Up to count events: fewer if the stream ends or stays quiet."""
    events = []
    try:
        while len(events) < count and (event := watch.next()) is not None:
            events.append(event)
    except TimeoutError:
        pass  # a step never came: the comparison shows which
    return events


def t_kubelet_lifecycle(s):
    rv = s.get(PODS)["metadata"]["resourceVersion"]
    watch = s.watch(f"{PODS}?watch=1&resourceVersion={rv}"
                    "&fieldSelector=metadata.name%3Dwalker"
                    "&timeoutSeconds=30")
    try:
        s.create(PODS, POD)
        created = read_steps(watch, len(CREATED))
        assert [step(e) for e in created] == CREATED, \
            [step(e) for e in created]
        check_created(s, created)
        status, answer = s.request("DELETE", PODS + "/walker")
        grace = answer["metadata"].get("deletionGracePeriodSeconds")
        assert (status, grace) == (200, 30), answer
        deleted = read_steps(watch, len(DELETED))
        assert [step(e) for e in deleted] == DELETED, \
            [step(e) for e in deleted]
    finally:
        watch.close()
    check_deleted(created[-1]["object"], [e["object"] for e in deleted])
    status, answer = s.request("GET", PODS + "/walker")
    assert status == 404 and answer["reason"] == "NotFound", answer
    rvs = [int(e["object"]["metadata"]["resourceVersion"])
           for e in created + deleted]
    assert rvs == sorted(set(rvs)), f"RVs not increasing: {rvs}"


def check_created(s, events):
    """The pod IP comes with ContainerCreating; Running is Ready."""
    pods = [e["object"] for e in events]
    assert "podIP" not in pods[1]["status"], pods[1]["status"]
    ip = pods[2]["status"]["podIP"]
    assert ip and pods[3]["status"]["podIP"] == ip
    ready = {c["type"]: c["status"] for c in pods[3]["status"]["conditions"]}
    assert ready["Ready"] == "True" and ready["PodScheduled"] == "True"
    assert s.get(PODS + "/walker") == pods[3]


def check_deleted(running, pods):
    """Containers end as the same containers, with exit code 0, and the
    DELETED event carries the terminated state."""
    marked, stopped, gone = pods
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
    assert marked["status"] == running["status"], "only metadata changes"
    ids = [c["containerID"] for c in running["status"]["containerStatuses"]]
    ends = [c["state"]["terminated"]
            for c in stopped["status"]["containerStatuses"]]
    assert [t["containerID"] for t in ends] == ids, ends
    assert all(t["exitCode"] == 0 for t in ends), ends
    assert gone["status"] == stopped["status"]


CHECKS = [t_history_bound, t_kubelet_lifecycle]


# -- running ------------------------------------------------------------------

def main():
    with tempfile.TemporaryDirectory(prefix="kubesim-life-") as directory:
        proc, _, http, _ = sim_testing.start_kubesim(
            directory, "test_lifecycle",
            ["--token", TOKEN, "--kubelet-delay", "0.1"])
        return sim_testing.run_checks("test_lifecycle", proc, CHECKS,
                                      Server(http))

if __name__ == "__main__":
    sys.exit(main())
