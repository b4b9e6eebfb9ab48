"""The simulated API server's state and request dispatch: authentication,
authorization, content negotiation, discovery, then sim_faults and
sim_rest for resource paths and sim_control for /_sim/.
"""

import sys
import threading
import time
import traceback

import sim_control
import sim_discovery
import sim_faults
import sim_rest
import sim_status
from sim_kubelet import Kubelet
from sim_registry import Registry
from sim_status import ApiError
from sim_store import Store

# What system:anonymous may read (the public-info-viewer role).
PUBLIC_PATHS = ("/version", "/version/", "/healthz", "/livez", "/readyz")
TOKEN_USER = "kubesim-admin"
MAX_LOGGED_REQUESTS = 200000


class Knobs:
    """Settings tests may change at run time through /_sim/config."""

    CHOICES = {"watch_expired_mode": ("event", "http"),
               "watchlist": ("on", "off")}
    TYPES = {"kubelet": bool, "kubelet_delay": float,
             "watch_expired_mode": str, "bookmark_interval": float,
             "bookmark_before_timeout": float, "watchlist": str,
             "history": int, "watch_timeout": float,
             "too_large_wait": float, "gzip": bool, "token": str}

    def __init__(self, **values):
        self.kubelet = True
        self.kubelet_delay = 0.3
        self.watch_expired_mode = "event"
        self.bookmark_interval = 60.0
        self.bookmark_before_timeout = 1.0
        self.watchlist = "on"
        self.history = 1000
        self.watch_timeout = 1800.0  # kube-apiserver --min-request-timeout
        self.too_large_wait = 1.0
        self.gzip = True
        self.token = ""
        self.update(values)

    def update(self, values):
        """Check every value first, then set them all (raises ValueError)."""
        clean = {}
        for name, value in values.items():
            kind = self.TYPES.get(name)
            if kind is None:
                raise ValueError(f"unknown knob {name!r}")
            if kind is bool and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
            if kind in (int, float) and (isinstance(value, bool) or
                                         not isinstance(value, (int, float))):
                raise ValueError(f"{name} must be a number")
            if kind is str and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            if value not in self.CHOICES.get(name, (value,)):
                raise ValueError(f"{name} must be one of "
                                 f"{', '.join(self.CHOICES[name])}")
            clean[name] = kind(value)
        for name, value in clean.items():
            setattr(self, name, value)

    def as_dict(self):
        return {name: getattr(self, name) for name in self.TYPES}


class RequestInfo:
    """The request as the authorizer sees it (k8s RequestInfoFactory)."""

    def __init__(self, req):
        self.path = req.path
        self.is_resource = False
        self.verb = req.method.lower()
        self.group = self.version = self.namespace = ""
        self.resource = self.subresource = self.name = ""
        self.watch_path = False
        segs = req.segments
        if len(segs) >= 3 and segs[0] == "api":
            self.version, rest = segs[1], segs[2:]
        elif len(segs) >= 4 and segs[0] == "apis":
            self.group, self.version, rest = segs[1], segs[2], segs[3:]
        else:
            return
        self.is_resource = True
        if rest[0] == "watch":  # the deprecated /watch/ paths
            self.watch_path, rest = True, rest[1:]
        if rest and rest[0] == "namespaces" and len(rest) > 1:
            self.namespace = rest[1]
            if len(rest) > 2 and rest[2] not in ("status", "finalize"):
                rest = rest[2:]
        self.parts = rest
        if not rest:
            self.is_resource = False
            return
        self.resource = rest[0]
        self.name = rest[1] if len(rest) > 1 else ""
        self.subresource = rest[2] if len(rest) > 2 else ""
        self.verb = self._verb(req)

    def _verb(self, req):
        method = req.method
        if method in ("GET", "HEAD"):
            if self.name:
                return "get"
            watching = self.watch_path or \
                req.query.get("watch") in ("true", "1", "True")
            return "watch" if watching else "list"
        if method == "DELETE" and not self.name:
            return "deletecollection"
        return {"POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}.get(method, method.lower())


def acceptable(accept):
    """JSON must be among the media types the client accepts."""
    if not accept or not accept.strip():
        return True
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("application/json", "*/*", "application/*", ""):
            return True
    return False


class Sim:
    def __init__(self, knobs, verbose=False, extra_resources=()):
        self.knobs = knobs
        self.verbose = verbose
        self.store = Store(knobs.history)
        self.registry = Registry(self.store, self.log)
        for res in extra_resources:
            self.registry.add_resource(res)
        self.kubelet = Kubelet(self.registry, knobs.kubelet_delay,
                               knobs.kubelet)
        self.registry.kubelet = self.kubelet
        self.disconnected = False
        self.server_address = ""
        self.requests = []
        self.requests_lock = threading.Lock()
        self.faults = sim_faults.Faults()

    def log(self, message):
        if self.verbose:
            print(f"kubesim: {message}", file=sys.stderr, flush=True)

    def set_knobs(self, values):
        self.knobs.update(values)
        self.kubelet.enabled = self.knobs.kubelet
        self.kubelet.delay = self.knobs.kubelet_delay
        self.store.set_history(self.knobs.history)

    def knob_state(self):
        state = self.knobs.as_dict()
        with self.store.cond:
            state.update(floor=str(self.store.floor),
                         resourceVersion=str(self.store.rv),
                         disconnected=self.disconnected)
        return state

    # -- dispatch ----------------------------------------------------------

    def handle(self, req):
        handler = req.handler
        try:
            if req.path.startswith("/_sim/") or req.path == "/_sim":
                sim_control.handle(self, req)
                return
            self._record(req)
            self._dispatch(req)
        except ApiError as err:
            self._answer_error(handler, err)
        except Exception as err:  # a bug must not take the server down
            self.log("internal error:\n" + traceback.format_exc())
            self._answer_error(handler, sim_status.internal_error(err))

    def _answer_error(self, handler, err):
        if handler.streaming:
            handler.close_connection = True  # cannot answer mid-stream
            return
        try:
            handler.send_json(err.code, err.body(), err.headers)
        except OSError:
            handler.close_connection = True

    def _record(self, req):
        entry = {"method": req.method, "path": req.path, "query": req.query,
                 "status": None, "time": time.time(),
                 "authorization": req.headers.get("Authorization")}
        req.handler.request_log = entry
        with self.requests_lock:
            if len(self.requests) < MAX_LOGGED_REQUESTS:
                self.requests.append(entry)

    def _dispatch(self, req):
        req.user = self._authenticate(req)
        req.handler.request_log["user"] = req.user
        info = RequestInfo(req)
        if req.user is None and req.path not in PUBLIC_PATHS:
            raise sim_status.forbidden("system:anonymous", info)
        if not acceptable(req.headers.get("Accept")):
            raise sim_status.not_acceptable()
        if info.is_resource:
            if not sim_faults.intercept(self, req, info):
                sim_rest.serve(self, req, info)
        else:
            self._non_resource(req)

    def _authenticate(self, req):
        """A verified client certificate first, then the bearer token
        (the real server's union authenticator order). None: anonymous."""
        user = req.handler.client_cert_user()
        if user:
            return user
        auth = req.headers.get("Authorization")
        if auth is None:
            return None
        scheme, _, cred = auth.strip().partition(" ")
        if scheme.lower() == "bearer" and cred.strip() == self.knobs.token:
            return TOKEN_USER
        raise sim_status.unauthorized()

    def _non_resource(self, req):
        if req.method not in ("GET", "HEAD"):
            raise sim_status.method_not_allowed()
        path = req.path.rstrip("/") or "/"
        handler, resources = req.handler, self.registry.resources.values()
        if path == "/version":
            handler.send_body(200, sim_discovery.version_body())
        elif path in ("/healthz", "/livez", "/readyz"):
            handler.send_body(200, b"ok", "text/plain; charset=utf-8")
        elif path == "/api":
            handler.send_json(200,
                              sim_discovery.api_versions(self.server_address))
        elif path == "/apis":
            handler.send_json(200, sim_discovery.api_group_list(resources))
        else:
            doc = self._discovery_doc(req.segments, list(resources))
            if doc is None:
                raise sim_status.path_not_found()
            handler.send_json(200, doc)

    @staticmethod
    def _discovery_doc(segs, resources):
        if len(segs) == 2 and segs[0] == "api":
            return sim_discovery.resource_list(resources, "", segs[1])
        if len(segs) == 2 and segs[0] == "apis":
            return sim_discovery.api_group(resources, segs[1])
        if len(segs) == 3 and segs[0] == "apis":
            return sim_discovery.resource_list(resources, segs[1], segs[2])
        return None
