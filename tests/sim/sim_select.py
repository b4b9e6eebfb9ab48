"""Label and field selectors, parsed the way kube-apiserver reads them.

parse_labels("app=web,tier in (a,b),!legacy") and parse_fields(...) return
a predicate over an object dict, or raise ApiError 400 on bad syntax.
"""

import re

from sim_status import bad_request

_KEY_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]"
                     r"([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_SET_RE = re.compile(r"^\s*(\S+)\s+(in|notin)\s*\((.*)\)\s*$")
_OP_RE = re.compile(r"^\s*([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(\S*)\s*$")

# Fields each kind supports in fieldSelector, beyond metadata.name/namespace.
POD_FIELDS = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
              "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
              "status.podIP", "status.nominatedNodeName")
EXTRA_FIELDS = {
    "Pod": POD_FIELDS,
    "Namespace": ("status.phase",),
    "Node": ("spec.unschedulable",),
    "Event": ("involvedObject.kind", "involvedObject.namespace",
              "involvedObject.name", "involvedObject.uid",
              "involvedObject.apiVersion", "involvedObject.resourceVersion",
              "involvedObject.fieldPath", "reason", "reportingComponent",
              "source", "type"),
    "Secret": ("type",),
}


def _split_top(text):
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _check_key(key):
    if not _KEY_RE.match(key):
        raise bad_request(f"unable to parse requirement: invalid label "
                          f"key \"{key}\"")


def _label_requirement(req):
    """One requirement -> predicate over a labels dict."""
    req = req.strip()
    m = _SET_RE.match(req)
    if m:
        key, op, values = m.group(1), m.group(2), m.group(3)
        _check_key(key)
        vals = {v.strip() for v in values.split(",")}
        if op == "in":
            return lambda labels: labels.get(key) in vals
        return lambda labels: labels.get(key) not in vals
    if req.startswith("!"):
        key = req[1:].strip()
        _check_key(key)
        return lambda labels: key not in labels
    m = _OP_RE.match(req)
    if m:
        return _label_op(m.group(1), m.group(2), m.group(3))
    _check_key(req)
    return lambda labels: req in labels


def _label_op(key, op, value):
    _check_key(key)
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == value
    if op == "!=":
        return lambda labels: labels.get(key) != value
    try:
        bound = int(value)
    except ValueError:
        raise bad_request(f"unable to parse requirement: for 'Gt', 'Lt' "
                          f"operators, the value must be an integer: "
                          f"{value}") from None

    def compare(labels):
        try:
            have = int(labels.get(key, ""))
        except ValueError:
            return False
        return have > bound if op == ">" else have < bound
    return compare


def parse_labels(text):
    """labelSelector -> predicate(obj); None when the selector is empty."""
    if not text or not text.strip():
        return None
    reqs = [_label_requirement(r) for r in _split_top(text) if r.strip()]

    def matches(obj):
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r(labels) for r in reqs)
    return matches


def field_value(obj, path):
    """The string a field selector compares: missing fields read as ""."""
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def _unescape(value):
    return re.sub(r"\\(.)", r"\1", value)


def _field_requirement(req, allowed):
    m = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$", req)
    if not m:
        raise bad_request(f"invalid selector: '{req}'; can't understand "
                          f"'{req}'")
    field, op, value = m.group(1), m.group(2), _unescape(m.group(3))
    if field not in allowed:
        raise bad_request(f'field label not supported: {field}')
    if op == "!=":
        return lambda obj: field_value(obj, field) != value
    return lambda obj: field_value(obj, field) == value


def parse_fields(text, kind):
    """fieldSelector -> predicate(obj); None when the selector is empty."""
    if not text or not text.strip():
        return None
    allowed = ("metadata.name", "metadata.namespace") + \
        EXTRA_FIELDS.get(kind, ())
    parts = re.split(r"(?<!\\),", text)
    reqs = [_field_requirement(p, allowed) for p in parts if p.strip()]
    return lambda obj: all(r(obj) for r in reqs)


def combine(*preds):
    """AND of the non-None predicates; None when there are none."""
    preds = [p for p in preds if p is not None]
    if not preds:
        return None
    if len(preds) == 1:
        return preds[0]
    return lambda obj: all(p(obj) for p in preds)
