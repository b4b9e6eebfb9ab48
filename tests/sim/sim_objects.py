"""Helpers that shape objects the way the real API server stores them."""

import random
import time
import uuid

_META_ORDER = ("name", "generateName", "namespace", "selfLink", "uid",
               "resourceVersion", "generation", "creationTimestamp",
               "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
               "annotations", "ownerReferences", "finalizers",
               "managedFields")

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # apiserver's generateName set

_POD_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
     "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
     "effect": "NoExecute", "tolerationSeconds": 300},
]


def now_rfc3339(offset=0.0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                         time.gmtime(time.time() + offset))


def new_uid():
    return str(uuid.uuid4())


def generate_name(prefix):
    return prefix + "".join(random.choice(_NAME_CHARS) for _ in range(5))


def ordered(obj, res):
    """kind, apiVersion, metadata (its keys in the server's order), rest."""
    meta = obj.get("metadata") or {}
    new_meta = {k: meta[k] for k in _META_ORDER if k in meta}
    new_meta.update({k: v for k, v in meta.items() if k not in new_meta})
    out = {"kind": res.kind, "apiVersion": res.api_version,
           "metadata": new_meta}
    out.update({k: v for k, v in obj.items()
                if k not in ("kind", "apiVersion", "metadata")})
    return out


def _default_container(c):
    if not isinstance(c, dict):
        return c
    image = str(c.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    latest = ":" not in tag or tag.endswith(":latest")
    c.setdefault("resources", {})
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    return c


def default_pod(obj):
    """The defaults kube-apiserver fills into a new pod."""
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    for field in ("containers", "initContainers"):
        if isinstance(spec.get(field), list):
            spec[field] = [_default_container(c) for c in spec[field]]
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("tolerations", [dict(t) for t in _POD_TOLERATIONS])
    spec.setdefault("priority", 0)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    status = obj.get("status")
    if not isinstance(status, dict) or "phase" not in status:
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def default_namespace(obj):
    name = obj["metadata"]["name"]
    labels = obj["metadata"].setdefault("labels", {})
    labels.setdefault("kubernetes.io/metadata.name", name)
    obj.setdefault("spec", {"finalizers": ["kubernetes"]})
    obj["status"] = {"phase": "Active"}


def default_deployment(obj):
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
    obj.setdefault("status", {})


DEFAULTERS = {
    ("", "Pod"): default_pod,
    ("", "Namespace"): default_namespace,
    ("apps", "Deployment"): default_deployment,
}


def apply_defaults(res, obj):
    fn = DEFAULTERS.get((res.group, res.kind))
    if fn:
        fn(obj)


def node_object(name):
    """The simulated kubelet's Node, Ready."""
    stamp = now_rfc3339()
    return {"metadata": {"name": name,
                         "labels": {"kubernetes.io/hostname": name,
                                    "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64"}},
            "spec": {},
            "status": {
                "conditions": [{"type": "Ready", "status": "True",
                                "lastHeartbeatTime": stamp,
                                "lastTransitionTime": stamp,
                                "reason": "KubeletReady",
                                "message": "kubelet is posting ready "
                                           "status"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"},
                              {"type": "Hostname", "address": name}],
                "nodeInfo": {"kubeletVersion": "v1.32.6",
                             "operatingSystem": "linux",
                             "architecture": "amd64",
                             "containerRuntimeVersion": "containerd://1.7"},
            }}
