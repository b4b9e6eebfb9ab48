"""The kinds the simulated server serves, with what discovery says of them."""

import base64
import json

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch",
         "update", "watch"]


class Resource:
    """One REST resource: group/version/plural plus kind and scope."""

    def __init__(self, group, version, plural, kind, namespaced,
                 short_names=(), categories=(), generation=False,
                 custom=False, subresources=()):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.categories = list(categories)
        self.generation = generation  # metadata.generation tracks spec
        self.custom = custom  # CRD-like: list items keep kind/apiVersion
        self.subresources = list(subresources)
        self.api_version = f"{group}/{version}" if group else version
        self.qualified = f"{plural}.{group}" if group else plural
        self.list_kind = kind + "List"

    def bookmark_object(self, rv, annotations=None):
        """A BOOKMARK's object: the kind's zero value carrying only the RV
        (for pods the real server also prints the zero spec and status)."""
        meta = {"resourceVersion": rv, "creationTimestamp": None}
        if annotations:
            meta["annotations"] = annotations
        obj = {"kind": self.kind, "apiVersion": self.api_version,
               "metadata": meta}
        obj.update(_ZERO_BODIES.get((self.group, self.kind), {}))
        return obj

    def list_blueprint(self):
        """The kubernetes.io/initial-events-list-blueprint annotation."""
        blueprint = json.dumps({"kind": self.list_kind,
                                "apiVersion": self.api_version,
                                "metadata": {}, "items": None},
                               separators=(",", ":")) + "\n"
        return base64.b64encode(blueprint.encode()).decode()

    def discovery(self):
        """The APIResourceList entries: the resource and its subresources."""
        entry = {"name": self.plural, "singularName": self.kind.lower(),
                 "namespaced": self.namespaced, "kind": self.kind,
                 "verbs": VERBS}
        if self.short_names:
            entry["shortNames"] = self.short_names
        if self.categories:
            entry["categories"] = self.categories
        entries = [entry]
        for sub in self.subresources:
            entries.append({"name": f"{self.plural}/{sub}",
                            "singularName": "", "namespaced": self.namespaced,
                            "kind": self.kind,
                            "verbs": ["get", "patch", "update"]})
        return entries


_ZERO_BODIES = {
    ("", "Pod"): {"spec": {"containers": None}, "status": {}},
    ("", "Service"): {"spec": {}, "status": {"loadBalancer": {}}},
    ("", "Namespace"): {"spec": {}, "status": {}},
    ("coordination.k8s.io", "Lease"): {"spec": {}},
}


def default_resources():
    """Core kinds plus leases and deployments, like a small cluster."""
    return [
        Resource("", "v1", "pods", "Pod", True, ["po"], ["all"],
                 subresources=["status"]),
        Resource("", "v1", "namespaces", "Namespace", False, ["ns"],
                 subresources=["status"]),
        Resource("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
        Resource("", "v1", "secrets", "Secret", True),
        Resource("", "v1", "services", "Service", True, ["svc"], ["all"],
                 subresources=["status"]),
        Resource("", "v1", "nodes", "Node", False, ["no"],
                 subresources=["status"]),
        Resource("", "v1", "events", "Event", True, ["ev"]),
        Resource("", "v1", "serviceaccounts", "ServiceAccount", True,
                 ["sa"]),
        Resource("coordination.k8s.io", "v1", "leases", "Lease", True),
        Resource("apps", "v1", "deployments", "Deployment", True, ["deploy"],
                 ["all"], generation=True, subresources=["status"]),
    ]


def parse_resource_spec(spec):
    """--resource group/version/plural/Kind/namespaced|cluster."""
    parts = spec.split("/")
    if len(parts) != 5 or parts[4] not in ("namespaced", "cluster"):
        raise ValueError(f"bad --resource {spec!r}: want "
                         "group/version/plural/Kind/namespaced|cluster")
    group, version, plural, kind, scope = parts
    if not (version and plural and kind):
        raise ValueError(f"bad --resource {spec!r}: empty field")
    return Resource(group, version, plural, kind, scope == "namespaced",
                    generation=True, custom=True)


def resource_from_json(body):
    """The /_sim/resources body -> Resource (raises ValueError)."""
    try:
        return Resource(str(body.get("group", "")), str(body["version"]),
                        str(body["plural"]), str(body["kind"]),
                        bool(body.get("namespaced", True)),
                        body.get("shortNames") or (), generation=True,
                        custom=True)
    except (KeyError, AttributeError) as err:
        raise ValueError(f"missing field {err}") from None
