"""Status bodies with the exact shapes and texts of kube-apiserver v1.32.

Every error the simulated server returns is an ApiError; its body() is the
Status object a real server would send (see tests/sim/captures/).
"""


def status_body(code, reason, message, details=None, metadata=None,
                status="Failure"):
    """A Status dict, keys in the order the real server writes them."""
    body = {"kind": "Status", "apiVersion": "v1",
            "metadata": metadata or {}, "status": status}
    if message is not None:
        body["message"] = message
    if reason is not None:
        body["reason"] = reason
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


class ApiError(Exception):
    """An error answer: HTTP code plus Status body (and optional headers)."""

    def __init__(self, code, reason, message, details=None, metadata=None,
                 headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.metadata = metadata
        self.headers = headers or {}

    def body(self):
        return status_body(self.code, self.reason, self.message,
                           self.details, self.metadata)


def _details(res, name=None):
    """details{name, group, kind} as the registry fills them."""
    details = {}
    if name is not None:
        details["name"] = name
    if res.group:
        details["group"] = res.group
    details["kind"] = res.plural
    return details


def not_found(res, name):
    return ApiError(404, "NotFound", f'{res.qualified} "{name}" not found',
                    _details(res, name))


def namespace_not_found(name):
    return ApiError(404, "NotFound", f'namespaces "{name}" not found',
                    {"name": name, "kind": "namespaces"})


def already_exists(res, name):
    return ApiError(409, "AlreadyExists",
                    f'{res.qualified} "{name}" already exists',
                    _details(res, name))


def conflict(res, name):
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {res.qualified} '
                    f'"{name}": the object has been modified; please apply '
                    'your changes to the latest version and try again',
                    _details(res, name))


def precondition_failed(res, name, what, wanted, actual):
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {res.qualified} '
                    f'"{name}": Precondition failed: {what} in precondition: '
                    f'{wanted}, {what} in object meta: {actual}',
                    _details(res, name))


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def invalid(kind, group, name, field, cause_reason, cause_message):
    """422 Invalid with one cause, e.g. Pod "x" is invalid: field: msg."""
    return invalid_causes(kind, group, name,
                          [(field, cause_reason, cause_message)])


def invalid_causes(kind, group, name, causes):
    """422 Invalid; causes are (field, reason, message) triples. Several
    causes are listed in brackets, as field.ErrorList prints them."""
    qualified = f"{kind}.{group}" if group else kind
    details = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [{"reason": r, "message": m, "field": f}
                         for f, r, m in causes]
    texts = [f"{f}: {m}" for f, r, m in causes]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return ApiError(422, "Invalid",
                    f'{qualified} "{name}" is invalid: {summary}', details)


def forbidden_field(field, detail):
    return (field, "FieldValueForbidden", "Forbidden: " + detail)


def unsupported_field(field, value, supported):
    values = ", ".join(f'"{v}"' for v in supported)
    return (field, "FieldValueNotSupported",
            f'Unsupported value: "{value}": supported values: {values}')


def invalid_list_options(causes):
    """422 for a bad query (ListOptions), as the watchlist-off capture."""
    return invalid_causes("ListOptions", "meta.k8s.io", "", causes)


def watch_too_old(requested, floor):
    """The watch cache's text (captures/03-watch-too-old-rv.http)."""
    return ApiError(410, "Expired",
                    f"too old resource version: {requested} ({floor})")


def list_too_old():
    return ApiError(410, "Expired",
                    "The resourceVersion for the provided list is too old.")


CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent "
    "list result. You can start a new list without the continue parameter, "
    "or use the continue token in this response to retrieve the remainder "
    "of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in "
    "the list.")


def continue_expired(inconsistent_token):
    return ApiError(410, "Expired", CONTINUE_EXPIRED,
                    metadata={"continue": inconsistent_token})


def too_large_rv(requested, current):
    return ApiError(504, "Timeout",
                    f"Timeout: Too large resource version: {requested}, "
                    f"current: {current}",
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}],
                     "retryAfterSeconds": 1},
                    headers={"Retry-After": "1"})


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(user, info):
    """403 from the authorizer, worded like RBAC's denial."""
    if not info.is_resource:
        return ApiError(403, "Forbidden",
                        f'forbidden: User "{user}" cannot '
                        f'{info.verb} path "{info.path}"', {})
    qualified = info.resource
    if info.group:
        qualified += "." + info.group
    subject = f'{qualified} "{info.name}"' if info.name else qualified
    target = info.resource
    if info.subresource:
        target += "/" + info.subresource
    scope = (f'in the namespace "{info.namespace}"' if info.namespace
             else "at the cluster scope")
    details = {}
    if info.name:
        details["name"] = info.name
    if info.group:
        details["group"] = info.group
    details["kind"] = info.resource
    return ApiError(403, "Forbidden",
                    f'{subject} is forbidden: User "{user}" cannot '
                    f'{info.verb} resource "{target}" in API group '
                    f'"{info.group}" {scope}', details)


def path_not_found():
    return ApiError(404, "NotFound",
                    "the server could not find the requested resource", {})


def method_not_allowed():
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested "
                    "resource", {})


def not_acceptable():
    return ApiError(406, "NotAcceptable",
                    "only the following media types are accepted: "
                    "application/json, application/json;stream=watch")


def unsupported_media_type(accepted):
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - "
                    "accepted media types include: " + ", ".join(accepted))


def service_unavailable():
    return ApiError(503, "ServiceUnavailable",
                    "the server is currently unable to handle the request")


def internal_error(err):
    return ApiError(500, "InternalError", f"Internal error occurred: {err}",
                    {"causes": [{"message": str(err)}]})
