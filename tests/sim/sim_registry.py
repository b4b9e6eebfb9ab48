"""The write path: create, replace, patch and delete with the real server's
checks (names, namespaces, optimistic concurrency, graceful pod deletion,
finalizers, namespace cascade). Each operation runs under the store lock so
that its checks and its write are one atomic step.
"""

import copy
import re

import sim_kubelet
import sim_objects
import sim_patch
import sim_status
from sim_resources import default_resources
from sim_status import ApiError, bad_request
from sim_store import object_key

PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")
# Kinds whose DELETE answers with the object rather than a Status.
_RETURN_DELETED = ("Pod", "Namespace")


class Registry:
    def __init__(self, store, log):
        self.store = store
        self.log = log
        self.resources = {}  # (group, version, plural) -> Resource
        self.kubelet = None
        for res in default_resources():
            self.add_resource(res)
        self.pods = self.find("", "v1", "pods")
        self.namespaces = self.find("", "v1", "namespaces")

    # -- kinds -------------------------------------------------------------

    def add_resource(self, res):
        """Register a kind; re-adding the same path keeps the first one."""
        with self.store.cond:
            key = (res.group, res.version, res.plural)
            if key not in self.resources:
                self.resources[key] = res
                self.store.register(res)
            return self.resources[key]

    def find(self, group, version, plural):
        return self.resources.get((group, version, plural))

    def key(self, res, namespace, name):
        return object_key(namespace if res.namespaced else "", name)

    def get(self, res, namespace, name):
        entry = self.store.get(res, self.key(res, namespace, name))
        if entry is None:
            raise sim_status.not_found(res, name)
        return entry

    # -- create ------------------------------------------------------------

    def create(self, res, namespace, body):
        obj = _check_body(res, body)
        meta = obj["metadata"]
        with self.store.cond:
            self._place(res, namespace, meta)
            for field in ("resourceVersion", "deletionTimestamp",
                          "deletionGracePeriodSeconds"):
                meta.pop(field, None)
            meta["uid"] = sim_objects.new_uid()
            meta["resourceVersion"] = ""  # keeps its place; put() sets it
            meta["creationTimestamp"] = sim_objects.now_rfc3339()
            if res.generation:
                meta["generation"] = 1
            sim_objects.apply_defaults(res, obj)
            key = self.key(res, namespace, meta["name"])
            if self.store.get(res, key) is not None:
                raise sim_status.already_exists(res, meta["name"])
            entry = self.store.put(res, key, sim_objects.ordered(obj, res))
        if res is self.pods and self.kubelet:
            if (obj.get("status") or {}).get("phase") == "Pending":
                self.kubelet.pod_created(key, meta["uid"])
        return entry

    def _place(self, res, namespace, meta):
        """Check and fill name and namespace for a new object."""
        if res.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise bad_request("the namespace of the provided object does "
                                  "not match the namespace sent on the "
                                  "request")
            meta["namespace"] = namespace
            if self.store.get(self.namespaces, namespace) is None:
                raise sim_status.namespace_not_found(namespace)
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise sim_status.invalid(
                    res.kind, res.group, "", "metadata.name",
                    "FieldValueRequired", "Required value: name or "
                    "generateName is required")
            meta["name"] = sim_objects.generate_name(meta["generateName"])
        _check_name(res, meta["name"])

    # -- update ------------------------------------------------------------

    def replace(self, res, namespace, name, body, subresource=None):
        obj = _check_body(res, body)
        if obj["metadata"].get("name") not in (None, name):
            raise bad_request(f'the name of the object '
                              f'({obj["metadata"]["name"]}) does not match '
                              f'the name on the URL ({name})')
        with self.store.cond:
            old = self.get(res, namespace, name)
            return self._update(res, old, obj, subresource)

    def patch(self, res, namespace, name, content_type, patch,
              subresource=None):
        with self.store.cond:
            old = self.get(res, namespace, name)
            obj = sim_patch.apply_patch(content_type, old.obj, patch)
            if not isinstance(obj, dict):
                raise bad_request("the patch did not produce an object")
            obj = _check_body(res, obj)
            # The patch cannot rename or move the object.
            obj["metadata"]["name"] = name
            return self._update(res, old, obj, subresource)

    def _update(self, res, old, obj, subresource):
        meta, old_meta = obj["metadata"], old.obj["metadata"]
        name = old_meta["name"]
        wanted = meta.get("resourceVersion")
        if wanted and wanted != old_meta["resourceVersion"]:
            raise sim_status.conflict(res, name)
        if subresource == "status":
            # Writes to /status change the status only.
            obj = dict(copy.deepcopy(old.obj), status=obj.get("status", {}))
            meta = obj["metadata"]
        for field in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "namespace", "generation"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if res.generation and obj.get("spec") != old.obj.get("spec"):
            meta["generation"] = old_meta.get("generation", 0) + 1
        obj = sim_objects.ordered(obj, res)
        if obj == old.obj:
            return old  # no-op writes keep the resourceVersion
        key = self.key(res, meta.get("namespace"), name)
        entry = self.store.put(res, key, obj)
        if meta.get("deletionTimestamp") and not meta.get("finalizers") \
                and not meta.get("deletionGracePeriodSeconds"):
            self.store.remove(res, key)  # last finalizer gone
        return entry

    # -- delete ------------------------------------------------------------

    def delete(self, res, namespace, name, options):
        """-> (entry, answer_with_object)."""
        with self.store.cond:
            entry = self.get(res, namespace, name)
            _check_preconditions(res, entry, options.get("preconditions"))
            key = self.key(res, namespace, name)
            if res is self.namespaces:
                return self._delete_namespace(entry), True
            if entry.obj["metadata"].get("finalizers"):
                return self._mark_deleting(res, key, entry, 0), True
            if res is self.pods:
                return self._delete_pod(key, entry, options), True
            removed = self.store.remove(res, key)
            return removed, res.kind in _RETURN_DELETED

    def delete_collection(self, res, namespace, pred, options):
        with self.store.cond:
            keys, table = self.store.snapshot(res)
            out = []
            for key in list(keys):
                obj = table[key].obj
                if namespace and obj["metadata"].get("namespace") \
                        != namespace:
                    continue
                if pred is None or pred(obj):
                    out.append(self.delete(res, namespace or obj["metadata"]
                                           .get("namespace", ""),
                                           obj["metadata"]["name"],
                                           options)[0])
            return out

    def _mark_deleting(self, res, key, entry, grace):
        if entry.obj["metadata"].get("deletionTimestamp"):
            return entry
        obj = copy.deepcopy(entry.obj)
        obj["metadata"]["deletionTimestamp"] = sim_objects.now_rfc3339(grace)
        obj["metadata"]["deletionGracePeriodSeconds"] = grace
        return self.store.put(res, key, sim_objects.ordered(obj, res))

    def _delete_pod(self, key, entry, options):
        pod = entry.obj
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
        immediate = (grace == 0 or not spec.get("nodeName")
                     or status.get("phase") in ("Succeeded", "Failed")
                     or not (self.kubelet and self.kubelet.enabled))
        if immediate:
            return self.store.remove(self.pods, key)
        if pod["metadata"].get("deletionTimestamp"):
            return entry  # already terminating
        marked = self._mark_deleting(self.pods, key, entry, grace)
        self.kubelet.pod_terminating(key, pod["metadata"]["uid"])
        return marked

    def _delete_namespace(self, entry):
        name = entry.obj["metadata"]["name"]
        if name in PROTECTED_NAMESPACES:
            raise ApiError(403, "Forbidden",
                           f'namespaces "{name}" is forbidden: this '
                           'namespace may not be deleted',
                           {"name": name, "kind": "namespaces"})
        obj = copy.deepcopy(entry.obj)
        obj["metadata"]["deletionTimestamp"] = sim_objects.now_rfc3339()
        obj["status"] = {"phase": "Terminating"}
        marked = self.store.put(self.namespaces, name,
                                sim_objects.ordered(obj, self.namespaces))
        for res in list(self.resources.values()):
            if not res.namespaced:
                continue
            for key in list(self.store.sorted_keys(res)):
                if key.startswith(name + "/"):
                    self.store.remove(res, key)
        self.store.remove(self.namespaces, name)
        return marked

    # -- the kubelet's writes ----------------------------------------------

    def update_pod(self, key, uid, change):
        """Apply change(pod) -> new pod or None; False if the pod is gone,
        was replaced (new uid) or change declined."""
        with self.store.cond:
            entry = self.store.get(self.pods, key)
            if entry is None or entry.obj["metadata"].get("uid") != uid:
                return False
            obj = change(entry.obj)
            if obj is None:
                return False
            self.store.put(self.pods, key,
                           sim_objects.ordered(obj, self.pods))
            return True

    def remove_pod(self, key, uid):
        with self.store.cond:
            entry = self.store.get(self.pods, key)
            if entry is None or entry.obj["metadata"].get("uid") != uid:
                return
            if entry.obj["metadata"].get("finalizers"):
                return  # removed once the finalizers are cleared
            self.store.remove(self.pods, key)

    # -- start-up state ----------------------------------------------------

    def bootstrap(self, seed_pods=0):
        for name in PROTECTED_NAMESPACES:
            self.create(self.namespaces, "", {"metadata": {"name": name}})
        nodes = self.find("", "v1", "nodes")
        self.create(nodes, "", sim_objects.node_object(sim_kubelet.NODE_NAME))
        for i in range(seed_pods):
            self.create(self.pods, "default", _seed_pod(f"pod-{i}", i))


def _seed_pod(name, i):
    """A pod that is already Running, so seeding makes no kubelet work."""
    pod = {"metadata": {"name": name, "namespace": "default",
                        "labels": {"app": "seed"}},
           "spec": {"containers": [{"name": "main", "image": "nginx:1.27",
                                    "ports": [{"containerPort": 80}]}]}}
    sim_objects.default_pod(pod)
    sim_kubelet.scheduled(pod)
    sim_kubelet.creating(pod, f"10.245.{i // 250}.{i % 250 + 2}")
    return sim_kubelet.running(pod)


def _check_body(res, body):
    """A deep copy of body, checked to be an object of res's kind."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    kind, api_version = body.get("kind"), body.get("apiVersion")
    if kind not in (None, "", res.kind):
        raise bad_request(f"the kind in the request body ({kind}) does not "
                          f"match the kind of the resource ({res.kind})")
    if api_version not in (None, "", res.api_version):
        raise bad_request(f"the API version in the data ({api_version}) "
                          f"does not match the expected API version "
                          f"({res.api_version})")
    obj = copy.deepcopy(body)
    if not isinstance(obj.get("metadata"), dict):
        obj["metadata"] = {}
    return obj


_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = _LABEL + r"(\." + _LABEL + r")*"
_LABEL_RULE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
    "characters or '-', and must start and end with an alphanumeric "
    "character (e.g. 'my-name',  or '123-abc', regex used for validation "
    f"is '{_LABEL}')")
_SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case "
    "alphanumeric characters, '-' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'example.com', regex used for "
    f"validation is '{_SUBDOMAIN}')")


def _check_name(res, name):
    """Namespaces are DNS labels, other names DNS subdomains."""
    label = res.kind == "Namespace" and not res.group
    pattern, rule, limit = (_LABEL, _LABEL_RULE, 63) if label \
        else (_SUBDOMAIN, _SUBDOMAIN_RULE, 253)
    if isinstance(name, str) and len(name) <= limit and \
            re.fullmatch(pattern, name):
        return
    raise sim_status.invalid(res.kind, res.group, str(name),
                             "metadata.name", "FieldValueInvalid",
                             f'Invalid value: "{name}": {rule}')


def _check_preconditions(res, entry, pre):
    if not isinstance(pre, dict):
        return
    meta = entry.obj["metadata"]
    for field, label in (("uid", "UID"),
                         ("resourceVersion", "ResourceVersion")):
        if pre.get(field) and pre[field] != meta.get(field):
            raise sim_status.precondition_failed(res, meta["name"], label,
                                                 pre[field], meta.get(field))
