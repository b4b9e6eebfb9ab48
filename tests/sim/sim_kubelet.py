"""A simulated scheduler + kubelet for one node: walks new pods through
scheduled -> ContainerCreating -> Running, and deleted pods through
containers terminated -> removed, one MODIFIED event per step.
"""

import copy
import heapq
import itertools
import threading
import time
import uuid

from sim_objects import now_rfc3339

NODE_NAME = "sim-node-1"
HOST_IP = "10.0.0.1"


def _condition(kind, status, reason=None, message=None):
    cond = {"type": kind, "status": status, "lastProbeTime": None,
            "lastTransitionTime": now_rfc3339()}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def _containers(pod):
    return [c for c in (pod.get("spec") or {}).get("containers") or []
            if isinstance(c, dict)]


def _conditions(pod, ready):
    names = ", ".join(c.get("name", "") for c in _containers(pod))
    if ready:
        return [_condition("PodReadyToStartContainers", "True"),
                _condition("Initialized", "True"),
                _condition("Ready", "True"),
                _condition("ContainersReady", "True"),
                _condition("PodScheduled", "True")]
    why = f"containers with unready status: [{names}]"
    return [_condition("PodReadyToStartContainers", "False"),
            _condition("Initialized", "True"),
            _condition("Ready", "False", "ContainersNotReady", why),
            _condition("ContainersReady", "False", "ContainersNotReady", why),
            _condition("PodScheduled", "True")]


def _container_status(c, state, ready, old=None):
    image = c.get("image", "")
    status = {"name": c.get("name", ""), "state": state, "lastState": {},
              "ready": ready, "restartCount": 0, "image": image,
              "imageID": (old or {}).get("imageID", ""),
              "started": "running" in state}
    if old and old.get("containerID"):
        status["containerID"] = old["containerID"]
    return status


def scheduled(pod):
    pod["spec"]["nodeName"] = pod["spec"].get("nodeName") or NODE_NAME
    status = pod.setdefault("status", {})
    status["phase"] = "Pending"
    status["conditions"] = [_condition("PodScheduled", "True")]
    return pod


def creating(pod, pod_ip):
    status = pod.setdefault("status", {})
    status.update({"phase": "Pending", "conditions": _conditions(pod, False),
                   "hostIP": HOST_IP, "hostIPs": [{"ip": HOST_IP}],
                   "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
                   "startTime": now_rfc3339()})
    waiting = {"waiting": {"reason": "ContainerCreating"}}
    status["containerStatuses"] = [_container_status(c, waiting, False)
                                   for c in _containers(pod)]
    status.setdefault("qosClass", "BestEffort")
    return pod


def running(pod):
    status = pod.setdefault("status", {})
    status["phase"] = "Running"
    status["conditions"] = _conditions(pod, True)
    started = now_rfc3339()
    out = []
    for c in _containers(pod):
        old = {"containerID": "containerd://" + uuid.uuid4().hex,
               "imageID": "sim.local/" + str(c.get("image", "")) +
                          "@sha256:" + uuid.uuid4().hex * 2}
        out.append(_container_status(c, {"running": {"startedAt": started}},
                                     True, old))
    status["containerStatuses"] = out
    return pod


def terminated(pod):
    status = pod.setdefault("status", {})
    finished = now_rfc3339()
    old = {s.get("name"): s for s in status.get("containerStatuses") or []}
    out = []
    for c in _containers(pod):
        prev = old.get(c.get("name")) or {}
        started = ((prev.get("state") or {}).get("running") or {}) \
            .get("startedAt", finished)
        state = {"terminated": {"exitCode": 0, "reason": "Completed",
                                "startedAt": started, "finishedAt": finished}}
        if prev.get("containerID"):
            state["terminated"]["containerID"] = prev["containerID"]
        out.append(_container_status(c, state, False, prev))
    status["containerStatuses"] = out
    status["conditions"] = _conditions(pod, False)
    status["phase"] = "Succeeded"
    return pod


class Kubelet:
    """Runs pod lifecycle steps, each kubelet_delay after the previous one,
    on one background thread with a timer heap."""

    def __init__(self, registry, delay, enabled):
        self.registry = registry
        self.delay = delay
        self.enabled = enabled
        self._heap = []
        self._seq = itertools.count()
        self._ips = itertools.count(2)
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="kubelet",
                                        daemon=True)
        self._thread.start()

    def _after(self, fn):
        with self._cond:
            due = time.monotonic() + max(0.0, float(self.delay))
            heapq.heappush(self._heap, (due, next(self._seq), fn))
            self._cond.notify()

    def _run(self):
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    wait = self._heap[0][0] - time.monotonic() \
                        if self._heap else None
                    self._cond.wait(wait)
                _, _, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception as err:  # a step must not kill the kubelet
                self.registry.log(f"kubelet step failed: {err!r}")

    def pod_created(self, key, uid):
        """Start the lifecycle of a new pod (when the kubelet is on)."""
        if not self.enabled:
            return
        n = next(self._ips)
        ip = f"10.244.{n // 250}.{n % 250 + 2}"
        steps = [scheduled, lambda p: creating(p, ip), running]
        self._after(lambda: self._lifecycle(key, uid, steps))

    def _lifecycle(self, key, uid, steps):
        if not self.enabled:
            return
        step = steps[0]

        def change(pod):
            if pod["metadata"].get("deletionTimestamp"):
                return None  # being deleted: stop walking it forward
            return step(copy.deepcopy(pod))
        if self.registry.update_pod(key, uid, change) and steps[1:]:
            self._after(lambda: self._lifecycle(key, uid, steps[1:]))

    def pod_terminating(self, key, uid):
        """Graceful deletion: the grace period is compressed to the
        kubelet delay: containers stop, then the pod is removed."""
        def stop():
            if self.registry.update_pod(
                    key, uid, lambda p: terminated(copy.deepcopy(p))):
                self._after(lambda: self.registry.remove_pod(key, uid))
        self._after(stop)
