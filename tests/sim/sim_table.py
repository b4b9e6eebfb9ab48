"""Server-side printing: meta.k8s.io Table answers for kubectl get.

kubectl asks for "application/json;as=Table;v=v1;g=meta.k8s.io" first; a
Table lets `kubectl get pods` show READY/STATUS like a real cluster (with
plain JSON it falls back to NAME and AGE only).
"""

import calendar
import time


def wanted_table(accept):
    """The Table apiVersion the Accept header asks for first, or None."""
    for part in (accept or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        params = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        if fields[0] == "application/json" and params.get("as") == "Table" \
                and params.get("g") == "meta.k8s.io":
            return "meta.k8s.io/" + params.get("v", "v1")
        if fields[0] in ("application/json", "*/*"):
            return None
    return None


def _age(stamp):
    """kubectl's short human durations (duration.HumanDuration)."""
    try:
        then = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return "<unknown>"
    secs = int(time.time() - then)
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    mins, hours, days = secs // 60, secs // 3600, secs // 86400
    if mins < 10:
        return f"{mins}m{secs % 60}s" if secs % 60 else f"{mins}m"
    if hours < 3:
        return f"{mins}m"
    if hours < 8:
        return f"{hours}h{mins % 60}m" if mins % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def _col(name, kind="string", fmt="", priority=0, description=""):
    return {"name": name, "type": kind, "format": fmt,
            "description": description, "priority": priority}


_NAME = _col("Name", fmt="name", description="Name must be unique within "
             "a namespace.")
_AGE = _col("Age", description="CreationTimestamp is a timestamp "
            "representing the server time when this object was created.")


def _pod_status(pod):
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _pod_cells(pod):
    status = pod.get("status") or {}
    containers = (pod.get("spec") or {}).get("containers") or []
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(cs.get("restartCount", 0) for cs in statuses)
    node = (pod.get("spec") or {}).get("nodeName") or "<none>"
    return [f"{ready}/{len(containers)}", _pod_status(pod), restarts,
            _age(pod["metadata"].get("creationTimestamp")),
            status.get("podIP") or "<none>", node, "<none>", "<none>"]


def _node_cells(node):
    ready = [c for c in (node.get("status") or {}).get("conditions") or []
             if c.get("type") == "Ready"]
    state = "Ready" if ready and ready[0].get("status") == "True" \
        else "NotReady"
    version = ((node.get("status") or {}).get("nodeInfo") or {}) \
        .get("kubeletVersion", "")
    return [state, "<none>", _age(node["metadata"].get("creationTimestamp")),
            version]


# (group, kind) -> (columns after Name, cells after the name)
_PRINTERS = {
    ("", "Pod"): ([
        _col("Ready", description="The aggregate readiness state of this "
             "pod for accepting traffic."),
        _col("Status", description="The aggregate status of the containers "
             "in this pod."),
        _col("Restarts", "integer", description="The number of times the "
             "containers in this pod have been restarted."),
        _AGE,
        _col("IP", priority=1, description="IP address allocated to the "
             "pod."),
        _col("Node", priority=1, description="Name of the node the pod is "
             "scheduled on."),
        _col("Nominated Node", priority=1, description="Nominated node."),
        _col("Readiness Gates", priority=1, description="Readiness gates."),
    ], _pod_cells),
    ("", "Namespace"): ([
        _col("Status", description="The status of the namespace"), _AGE],
        lambda ns: [(ns.get("status") or {}).get("phase", ""),
                    _age(ns["metadata"].get("creationTimestamp"))]),
    ("", "Node"): ([
        _col("Status", description="The status of the node"),
        _col("Roles", description="The roles of the node"), _AGE,
        _col("Version", description="Kubelet Version reported by the "
             "node.")], _node_cells),
}


def _printer(res):
    return _PRINTERS.get((res.group, res.kind), (
        [_AGE], lambda obj: [_age(obj["metadata"].get("creationTimestamp"))]))


def _row(res, obj, include):
    _, cells = _printer(res)
    row = {"cells": [obj["metadata"]["name"]] + cells(obj)}
    if include == "Object":
        row["object"] = obj
    elif include != "None":
        row["object"] = {"kind": "PartialObjectMetadata",
                         "apiVersion": "meta.k8s.io/v1",
                         "metadata": obj["metadata"]}
    return row


def table(res, api_version, objs, meta, include="Metadata", headers=True):
    """A Table of objs (full objects with kind and apiVersion)."""
    columns, _ = _printer(res)
    return {"kind": "Table", "apiVersion": api_version, "metadata": meta,
            "columnDefinitions": [_NAME] + columns if headers else None,
            "rows": [_row(res, obj, include) for obj in objs]}
