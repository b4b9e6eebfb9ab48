"""PATCH bodies: JSON merge patch, a strategic merge patch close enough for
kubectl apply, and RFC 6902 JSON patch. All functions return new values and
never modify their inputs.
"""

import copy

from sim_status import ApiError, bad_request

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC)

# Merge keys of the lists kubectl and the kubelet patch element-wise
# (strategic merge). Lists of objects carrying one of these keys merge by
# it; every other list is replaced whole, as in a merge patch.
_MERGE_KEYS = ("name", "containerPort", "mountPath", "devicePath", "type",
               "ip", "port")


def merge_patch(target, patch):
    """RFC 7386: objects merge recursively, null deletes, the rest replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _merge_key(items):
    """The key every dict element of a patch list carries, if any."""
    dicts = [i for i in items if isinstance(i, dict)]
    if not dicts or len(dicts) != len(items):
        return None
    for key in _MERGE_KEYS:
        if all(key in i for i in dicts):
            return key
    return None


def _strategic_list(target, patch, order):
    key = _merge_key(patch)
    if key is None or not isinstance(target, list):
        return [strategic_patch(None, p) for p in patch
                if not (isinstance(p, dict) and "$patch" in p)]
    result = [copy.deepcopy(t) for t in target]
    for item in patch:
        idx = next((i for i, t in enumerate(result)
                    if isinstance(t, dict) and t.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del result[idx]
        elif idx is None:
            result.append(strategic_patch(None, item))
        else:
            result[idx] = strategic_patch(result[idx], item)
    if order:
        wanted = [o.get(key) for o in order if isinstance(o, dict)]
        rank = {v: n for n, v in enumerate(wanted)}
        result.sort(key=lambda t: rank.get(t.get(key), len(rank)))
    return result


def strategic_patch(target, patch):
    """Strategic merge patch: merge patch plus the directives kubectl sends
    ($setElementOrder, $deleteFromPrimitiveList, $retainKeys, $patch) and
    list merging by the usual merge keys."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items()
                if not k.startswith("$")}
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or []
                             if v not in value]
        elif key.startswith("$"):
            continue
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            order = patch.get("$setElementOrder/" + key)
            result[key] = _strategic_list(result.get(key), value, order)
        else:
            result[key] = strategic_patch(result.get(key), value)
    if isinstance(patch.get("$retainKeys"), list):
        keep = set(patch["$retainKeys"])
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~")
            for p in path[1:].split("/")]


def _failed(message):
    return ApiError(422, "Invalid", f"the server rejected our request due "
                    f"to an error in our request: {message}")


def _parent(doc, parts):
    cur = doc
    for part in parts[:-1]:
        cur = _child(cur, part)
    return cur


def _child(cur, part):
    try:
        if isinstance(cur, list):
            return cur[int(part)]
        return cur[part]
    except (KeyError, IndexError, ValueError, TypeError):
        raise _failed(f"path element {part!r} not found") from None


def _index(container, part, adding):
    if part == "-" and adding:
        return len(container)
    try:
        idx = int(part)
    except ValueError:
        raise _failed(f"invalid array index {part!r}") from None
    limit = len(container) + (1 if adding else 0)
    if not 0 <= idx < limit:
        raise _failed(f"array index {idx} out of range")
    return idx


def _get(doc, parts):
    cur = doc
    for part in parts:
        cur = _child(cur, part)
    return cur


def _remove(doc, parts):
    if not parts:
        raise _failed("cannot remove the whole document")
    parent, last = _parent(doc, parts), parts[-1]
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, False))
    if not isinstance(parent, dict) or last not in parent:
        raise _failed(f"path element {last!r} not found")
    return parent.pop(last)


def _add(doc, parts, value, replace=False):
    if not parts:
        return value
    parent, last = _parent(doc, parts), parts[-1]
    if isinstance(parent, list):
        idx = _index(parent, last, not replace)
        if replace:
            parent[idx] = value
        else:
            parent.insert(idx, value)
    elif isinstance(parent, dict):
        if replace and last not in parent:
            raise _failed(f"path element {last!r} not found")
        parent[last] = value
    else:
        raise _failed(f"cannot add to {type(parent).__name__}")
    return doc


def _apply_op(doc, op):
    if not isinstance(op, dict) or "op" not in op or "path" not in op:
        raise bad_request("json patch operation needs \"op\" and \"path\"")
    kind, parts = op["op"], _pointer(op["path"])
    if kind in ("add", "replace", "test") and "value" not in op:
        raise bad_request(f"json patch {kind} operation needs \"value\"")
    if kind == "add":
        return _add(doc, parts, copy.deepcopy(op["value"]))
    if kind == "replace":
        return _add(doc, parts, copy.deepcopy(op["value"]), replace=True)
    if kind == "remove":
        _remove(doc, parts)
        return doc
    if kind == "test":
        if _get(doc, parts) != op["value"]:
            raise _failed(f"testing value {op['path']} failed")
        return doc
    if kind in ("move", "copy"):
        value = _get(doc, _pointer(op.get("from", "")))
        if kind == "move":
            _remove(doc, _pointer(op["from"]))
        return _add(doc, parts, copy.deepcopy(value))
    raise bad_request(f"unexpected json patch operation {kind!r}")


def json_patch(target, ops):
    """RFC 6902 on a copy of target; raises ApiError 400/422."""
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        doc = _apply_op(doc, op)
    return doc


def apply_patch(content_type, target, patch):
    if content_type == JSON_PATCH:
        return json_patch(target, patch)
    if content_type == STRATEGIC:
        return strategic_patch(target, patch)
    return merge_patch(target, patch)
