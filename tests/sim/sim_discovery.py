"""Discovery documents: /version, /api, /apis, /api/v1, /apis/{g}/{v}.

Only the plain JSON forms: kubectl asks for aggregated discovery first and
falls back to these when the answer's Content-Type is plain JSON.
"""

import json

VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.6",
    "gitCommit": "e52b13b59e910bfa409eaa1e5280c4160b687bf8",
    "gitTreeState": "clean",
    "buildDate": "2025-06-17T18:30:03Z",
    "goVersion": "go1.23.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def version_body():
    """/version is the one answer the real server pretty-prints."""
    return json.dumps(VERSION, indent=2).encode()


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _groups(resources):
    """{group: [versions]} of the named groups, in registration order."""
    groups = {}
    for res in resources:
        if res.group:
            versions = groups.setdefault(res.group, [])
            if res.version not in versions:
                versions.append(res.version)
    return groups


def _group_doc(name, versions):
    entries = [{"groupVersion": f"{name}/{v}", "version": v}
               for v in versions]
    return {"name": name, "versions": entries,
            "preferredVersion": entries[0]}


def api_group_list(resources):
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(g, v)
                       for g, v in _groups(resources).items()]}


def api_group(resources, group):
    versions = _groups(resources).get(group)
    if not versions:
        return None
    return dict({"kind": "APIGroup", "apiVersion": "v1"},
                **_group_doc(group, versions))


def resource_list(resources, group, version):
    entries = []
    for res in resources:
        if res.group == group and res.version == version:
            entries.extend(res.discovery())
    if not entries:
        return None
    if not group:  # the real /api/v1 has no apiVersion field
        return {"kind": "APIResourceList", "groupVersion": version,
                "resources": entries}
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}", "resources": entries}
