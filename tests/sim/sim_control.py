"""/_sim/: the test driver's control interface (JSON, no auth, not logged).

POST /_sim/close-watches {"abrupt": false, "rst": false, "path_prefix": ""}
POST /_sim/compact [{"resourceVersion": "N"}]
POST /_sim/disconnect, POST /_sim/reconnect
GET|POST /_sim/config {knob: value...}
GET|POST /_sim/resources {"group", "version", "plural", "kind", "namespaced"}
GET /_sim/requests, POST /_sim/requests/clear
GET /_sim/watches, GET /_sim/healthz
GET|POST /_sim/faults {"faults": [...]}, POST /_sim/faults/clear
"""

import json

from sim_resources import resource_from_json
from sim_status import ApiError


class ControlError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _body(req):
    if not req.body.strip():
        return {}
    try:
        body = json.loads(req.body)
    except (ValueError, UnicodeDecodeError) as err:
        raise ControlError(400, f"bad JSON body: {err}") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def close_watches(sim, req):
    body = _body(req)
    mode = "clean"
    if body.get("abrupt"):
        mode = "rst" if body.get("rst") else "abrupt"
    closed = sim.store.close_watchers(mode, str(body.get("path_prefix", "")))
    return {"closed": closed}


def compact(sim, req):
    rv = _body(req).get("resourceVersion")
    try:
        floor = sim.store.compact(None if rv in (None, "") else int(rv))
    except (TypeError, ValueError):
        raise ControlError(400, f"bad resourceVersion {rv!r}") from None
    return {"floor": str(floor)}


def disconnect(sim, req):
    sim.disconnected = True
    return {"disconnected": True,
            "closed": sim.store.close_watchers("abrupt")}


def reconnect(sim, req):
    sim.disconnected = False
    return {"disconnected": False}


def config(sim, req):
    if req.method == "POST":
        try:
            sim.set_knobs(_body(req))
        except ValueError as err:
            raise ControlError(400, str(err)) from None
    return sim.knob_state()


def _describe(res):
    return {"group": res.group, "version": res.version,
            "plural": res.plural, "kind": res.kind,
            "namespaced": res.namespaced}


def resources(sim, req):
    if req.method == "POST":
        try:
            res = resource_from_json(_body(req))
        except ValueError as err:
            raise ControlError(400, str(err)) from None
        return _describe(sim.registry.add_resource(res))
    return [_describe(r) for r in sim.registry.resources.values()]


def requests(sim, req):
    with sim.requests_lock:
        return list(sim.requests)


def clear_requests(sim, req):
    with sim.requests_lock:
        count = len(sim.requests)
        sim.requests.clear()
    return {"cleared": count}


def watches(sim, req):
    with sim.store.cond:
        return [{"path": w.path, "query": w.query, "closing": w.closing}
                for w in sim.store.watchers]


def faults(sim, req):
    if req.method == "POST":
        try:
            sim.faults.add(_body(req).get("faults"))
        except ValueError as err:
            raise ControlError(400, str(err)) from None
    return {"faults": sim.faults.describe()}


def clear_faults(sim, req):
    return {"cleared": sim.faults.clear()}


ROUTES = {
    ("POST", "/_sim/close-watches"): close_watches,
    ("POST", "/_sim/compact"): compact,
    ("POST", "/_sim/disconnect"): disconnect,
    ("POST", "/_sim/reconnect"): reconnect,
    ("GET", "/_sim/config"): config,
    ("POST", "/_sim/config"): config,
    ("GET", "/_sim/resources"): resources,
    ("POST", "/_sim/resources"): resources,
    ("GET", "/_sim/requests"): requests,
    ("POST", "/_sim/requests/clear"): clear_requests,
    ("GET", "/_sim/watches"): watches,
    ("GET", "/_sim/faults"): faults,
    ("POST", "/_sim/faults"): faults,
    ("POST", "/_sim/faults/clear"): clear_faults,
}


def handle(sim, req):
    handler = req.handler
    path = req.path.rstrip("/")
    if path == "/_sim/healthz":
        handler.send_body(200, b"ok", "text/plain; charset=utf-8")
        return
    route = ROUTES.get((req.method, path))
    try:
        if route is None:
            known = any(p == path for _, p in ROUTES)
            raise ControlError(405 if known else 404,
                               f"no control endpoint {req.method} {path}")
        handler.send_json(200, route(sim, req))
    except ControlError as err:
        handler.send_json(err.code, {"error": str(err)})
    except ApiError as err:
        handler.send_json(err.code, err.body())
