"""Resource paths: the REST verbs on collections and items."""

import sim_status
import sim_table
from sim_list import list_body, read_list, validate_options
from sim_patch import PATCH_TYPES
from sim_select import combine, parse_fields, parse_labels
from sim_status import method_not_allowed, path_not_found
from sim_watch import serve_watch


def serve(sim, req, info):
    res, namespace = _target(sim, info)
    if info.name:
        _item(sim, req, res, namespace, info)
    else:
        _collection(sim, req, res, namespace, info)


def read_target(sim, req, info):
    """(res, namespace, selector) of a list or watch, with the errors the
    normal path raises first. sim_faults answers such reads its own way."""
    res, namespace = _target(sim, info)
    return res, namespace, _read_checks(sim, req, res, info)


def _target(sim, info):
    res = sim.registry.find(info.group, info.version, info.resource)
    if res is None:
        raise path_not_found()
    namespace = _namespace(sim, res, info)
    if info.subresource and info.subresource not in res.subresources:
        raise path_not_found()
    return res, namespace


def _namespace(sim, res, info):
    """The namespace the request is scoped to ("" = all or none)."""
    if res.namespaced:
        if info.name and not info.namespace:
            raise path_not_found()  # e.g. /api/v1/pods/x
        return info.namespace
    if info.namespace and res is not sim.registry.namespaces:
        raise path_not_found()  # e.g. /api/v1/namespaces/x/nodes
    return ""


def _selector(req, res):
    return combine(parse_labels(req.query.get("labelSelector")),
                   parse_fields(req.query.get("fieldSelector"), res.kind))


# Bodies we cannot read. Anything else is tried as JSON, so that curl's
# default form content type still works by hand.
_FOREIGN_BODIES = ("application/vnd.kubernetes.protobuf", "application/yaml",
                   "application/cbor", "application/apply-patch+yaml",
                   "application/apply-patch+cbor")


def _body(req):
    if req.content_type() in _FOREIGN_BODIES:
        raise sim_status.unsupported_media_type(["application/json"])
    return req.json()


def _collection(sim, req, res, namespace, info):
    method, handler = req.method, req.handler
    if method in ("GET", "HEAD"):
        pred = _read_checks(sim, req, res, info)
        if info.verb == "watch":
            serve_watch(sim, req, res, namespace, pred)
        else:
            meta, page = read_list(sim, req, res, namespace, pred)
            handler.send_json(200, list_answer(req, res, meta, page))
    elif method == "POST":
        if res.namespaced and not namespace:
            raise method_not_allowed()
        entry = sim.registry.create(res, namespace, _body(req))
        handler.send_json(201, entry.full_json())
    elif method == "DELETE":
        entries = sim.registry.delete_collection(
            res, namespace, _selector(req, res), _delete_options(req))
        with sim.store.cond:
            rv = str(sim.store.rv)
        handler.send_json(200, list_body(
            res, {"resourceVersion": rv},
            [e.full_json() if res.custom else e.item_json()
             for e in entries]))
    else:
        raise method_not_allowed()


def _read_checks(sim, req, res, info):
    """The query checks of a list or watch; -> the selector predicate."""
    validate_options(req.query, info.verb == "watch",
                     sim.knobs.watchlist == "on")
    if sim.disconnected:
        raise sim_status.service_unavailable()
    return _selector(req, res)


def _item(sim, req, res, namespace, info):
    method, handler, name = req.method, req.handler, info.name
    registry, sub = sim.registry, info.subresource
    if method in ("GET", "HEAD"):
        entry = registry.get(res, namespace, name)
    elif method == "PUT":
        entry = registry.replace(res, namespace, name, _body(req), sub)
    elif method == "PATCH":
        ctype = req.content_type()
        if ctype not in PATCH_TYPES:
            raise sim_status.unsupported_media_type(PATCH_TYPES)
        entry = registry.patch(res, namespace, name, ctype, req.json(),
                               sub)
    elif method == "DELETE" and not sub:
        entry, as_object = registry.delete(res, namespace, name,
                                           _delete_options(req))
        if not as_object:
            handler.send_json(200, _deleted_status(res, entry))
            return
    else:
        raise method_not_allowed()
    table = sim_table.wanted_table(req.headers.get("Accept"))
    if table and method in ("GET", "HEAD"):
        handler.send_json(200, sim_table.table(
            res, table, [entry.obj], {"resourceVersion": str(entry.rv)},
            req.query.get("includeObject", "Metadata")))
    else:
        handler.send_json(200, entry.full_json())


def list_answer(req, res, meta, page):
    """The List document, or a Table when kubectl asks for one."""
    table = sim_table.wanted_table(req.headers.get("Accept"))
    if table:
        return sim_table.table(res, table, [e.obj for e in page], meta,
                               req.query.get("includeObject", "Metadata"))
    return list_body(res, meta, [e.full_json() if res.custom
                                 else e.item_json() for e in page])


def _delete_options(req):
    """DeleteOptions from the body, gracePeriodSeconds also from the
    query."""
    body = req.json(allow_empty=True)
    options = body if isinstance(body, dict) else {}
    grace = options.get("gracePeriodSeconds")
    if grace is None and req.query.get("gracePeriodSeconds"):
        grace = req.query["gracePeriodSeconds"]
    if grace is not None:
        try:
            grace = max(0, int(grace))
        except (TypeError, ValueError):
            raise sim_status.bad_request(
                f"invalid gracePeriodSeconds: {grace}") from None
    return dict(options, gracePeriodSeconds=grace)


def _deleted_status(res, entry):
    meta = entry.obj["metadata"]
    details = {"name": meta["name"]}
    if res.group:
        details["group"] = res.group
    details["kind"] = res.plural
    details["uid"] = meta.get("uid", "")
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Success", "details": details}
