"""LIST: resourceVersion semantics, limit/continue pagination, selectors.

The rules follow the API-concepts tables in protocol.md: RV unset is a
consistent read, "0" is served from "cache" and ignores limit, N with limit
(or resourceVersionMatch=Exact) is an exact read at N, and every page of a
paginated list is served at the first page's resourceVersion.
"""

import base64
import bisect
import json

import sim_status
from sim_status import bad_request, forbidden_field, unsupported_field


def flag(value):
    return value in ("true", "1", "True", "TRUE", "t", "T")


def parse_rv(text, what="resource version"):
    try:
        value = int(text)
        if value < 0:
            raise ValueError(text)
        return value
    except ValueError:
        raise bad_request(f"invalid {what}: {text}") from None


_RVM = "resourceVersionMatch"


def _watch_errors(match, cont, sie, watchlist_on):
    errs = []
    if sie is not None:
        if match != "NotOlderThan":
            errs.append(forbidden_field(
                _RVM, "sendInitialEvents requires setting "
                "resourceVersionMatch to NotOlderThan"))
        if not watchlist_on:
            errs.append(forbidden_field(
                "sendInitialEvents", "sendInitialEvents is forbidden for "
                "watch unless the WatchList feature gate is enabled"))
    if match:
        if sie is None:
            errs.append(forbidden_field(
                _RVM, "resourceVersionMatch is forbidden for watch unless "
                "sendInitialEvents is provided"))
        if match != "NotOlderThan":
            errs.append(unsupported_field(_RVM, match, ["NotOlderThan"]))
        if cont:
            errs.append(forbidden_field(
                _RVM, "resourceVersionMatch is forbidden when continue is "
                "provided"))
    return errs


def _list_errors(rv, match, cont, sie):
    errs = []
    if match:
        if not rv:
            errs.append(forbidden_field(
                _RVM, "resourceVersionMatch is forbidden unless "
                "resourceVersion is provided"))
        if cont:
            errs.append(forbidden_field(
                _RVM, "resourceVersionMatch is forbidden when continue is "
                "provided"))
        if match not in ("Exact", "NotOlderThan"):
            errs.append(unsupported_field(
                _RVM, match, ["Exact", "NotOlderThan", ""]))
        if match == "Exact" and rv == "0":
            errs.append(forbidden_field(
                _RVM, 'resourceVersionMatch "exact" is forbidden for '
                'resourceVersion "0"'))
    if sie is not None:
        errs.append(forbidden_field(
            "sendInitialEvents", "sendInitialEvents is forbidden for list"))
    return errs


def validate_options(q, watch, watchlist_on):
    """ListOptions validation with the real server's rules and texts
    (apimachinery's ValidateListOptions, WatchList gate as a knob)."""
    rv = q.get("resourceVersion") or ""
    match = q.get("resourceVersionMatch") or ""
    cont = q.get("continue") or ""
    sie = q.get("sendInitialEvents")
    errs = _watch_errors(match, cont, sie, watchlist_on) if watch \
        else _list_errors(rv, match, cont, sie)
    if errs:
        raise sim_status.invalid_list_options(errs)


def encode_continue(rv, key):
    """Opaque token shaped like the real one: base64url of
    {"v":"meta.k8s.io/v1","rv":N,"start":"<next key>"}; rv -1 marks an
    inconsistent token (served from the current state)."""
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": key},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_continue(token):
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError("unexpected version")
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise bad_request(f"continue key is not valid: {err}") from None


class ListPlan:
    """Where a list reads: at which RV, from which key, how many."""

    def __init__(self, at_rv, start, limit, token_rv=None):
        self.at_rv = at_rv  # None: the current state
        self.start = start
        self.limit = limit
        self.token_rv = token_rv


def plan_list(sim, q):
    """Turn the query into a ListPlan, raising the real errors."""
    store = sim.store
    rv = q.get("resourceVersion") or ""
    match = q.get("resourceVersionMatch") or ""
    cont = q.get("continue") or ""
    limit = parse_rv(q.get("limit") or "0", "limit")
    if cont:
        if rv and rv != "0":
            raise bad_request("specifying resource version is not allowed "
                              "when using continue")
        token_rv, start = decode_continue(cont)
        with store.cond:
            if token_rv > 0 and token_rv < store.floor:
                raise sim_status.continue_expired(
                    encode_continue(-1, start))
        at = token_rv if token_rv > 0 else None
        return ListPlan(at, start, limit, token_rv)
    if not rv:
        return ListPlan(None, "", limit)
    if rv == "0":
        return ListPlan(None, "", 0)  # the watch cache ignores limit here
    wanted = parse_rv(rv)
    if not store.wait_for_rv(wanted, sim.knobs.too_large_wait):
        raise sim_status.too_large_rv(wanted, store.rv)
    exact = match == "Exact" or (not match and limit > 0)
    return ListPlan(wanted if exact else None, "", limit)


def _page(keys, table, plan, namespace, pred):
    """(entries of the page, next key or None, remaining count or None)."""
    prefix = namespace + "/" if namespace else ""
    lo = bisect.bisect_left(keys, max(plan.start, prefix))
    hi = bisect.bisect_left(keys, prefix[:-1] + "0") if prefix \
        else len(keys)  # "0" sorts right after "/"
    page, i = [], lo
    while i < hi and (not plan.limit or len(page) < plan.limit):
        entry = table[keys[i]]
        if pred is None or pred(entry.obj):
            page.append(entry)
        i += 1
    if i >= hi or not plan.limit:
        return page, None, None
    if pred is None:
        return page, keys[i - 1] + "\x00", hi - i
    more = any(pred(table[k].obj) for k in keys[i:hi])
    return page, (keys[i - 1] + "\x00" if more else None), None


def read_list(sim, req, res, namespace, pred):
    """-> (list metadata, entries of the page)."""
    plan = plan_list(sim, req.query)
    with sim.store.cond:  # the current table changes under writers
        keys, table = sim.store.snapshot(res, plan.at_rv)
        list_rv = plan.at_rv if plan.at_rv is not None else sim.store.rv
        page, next_key, remaining = _page(keys, table, plan, namespace,
                                          pred)
    meta = {"resourceVersion": str(list_rv)}
    if next_key is not None:
        meta["continue"] = encode_continue(list_rv, next_key)
        if remaining is not None:
            meta["remainingItemCount"] = remaining
    return meta, page


def list_body(res, meta, items):
    """The List document, assembled from pre-encoded items."""
    head = json.dumps({"kind": res.list_kind, "apiVersion": res.api_version,
                       "metadata": meta}, separators=(",", ":"))
    return b"".join([head[:-1].encode(), b',"items":[', b",".join(items),
                     b"]}"])
