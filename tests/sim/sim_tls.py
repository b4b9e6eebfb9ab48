"""Throwaway PKI made with the openssl CLI, and the kubeconfig files."""

import base64
import ipaddress
import json
import os
import secrets
import subprocess

CLIENT_CN = "kinformer-test"
CLIENT_ORG = "system:masters"

_CA_CONF = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = kubesim-ca
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_LEAF_EXT = """basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = {usage}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
"""


def _openssl(*args, cwd):
    result = subprocess.run(["openssl", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr}")


def _write(path, text, mode=0o644):
    # Whole or not at all: a script waits for the kubeconfig to appear,
    # then reads it at once.
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(partial, mode)
    os.replace(partial, path)


def _key(name, cwd):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-out", name, cwd=cwd)
    os.chmod(os.path.join(cwd, name), 0o600)


def _leaf(name, subject, ext, cwd):
    """name.key + name.crt signed by the CA, with extensions ext."""
    _key(f"{name}.key", cwd)
    _write(os.path.join(cwd, f"{name}.ext"), ext)
    _write(os.path.join(cwd, "req.cnf"),
           "[req]\ndistinguished_name = dn\n[dn]\n")
    _openssl("req", "-new", "-config", "req.cnf", "-key", f"{name}.key",
             "-subj", subject, "-out", f"{name}.csr", cwd=cwd)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt",
             "-CAkey", "ca.key", "-set_serial",
             "0x" + secrets.token_hex(8), "-days", "3650", "-sha256",
             "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=cwd)
    for tmp in (f"{name}.csr", f"{name}.ext", "req.cnf"):
        os.unlink(os.path.join(cwd, tmp))


def _san(hosts):
    names = []
    for host in hosts:
        try:
            ipaddress.ip_address(host)
            entry = f"IP:{host}"
        except ValueError:
            entry = f"DNS:{host}"
        if entry not in names:
            names.append(entry)
    return ",".join(names)


def make_pki(directory, host):
    """CA, server cert (127.0.0.1, ::1, localhost and host) and a client
    cert (CN=kinformer-test, O=system:masters) in directory."""
    _key("ca.key", directory)
    _write(os.path.join(directory, "ca.cnf"), _CA_CONF)
    _openssl("req", "-x509", "-new", "-config", "ca.cnf", "-extensions",
             "v3_ca", "-key", "ca.key", "-days", "3650", "-sha256",
             "-out", "ca.crt", cwd=directory)
    os.unlink(os.path.join(directory, "ca.cnf"))
    server_ext = _LEAF_EXT.format(usage="serverAuth") + \
        f"subjectAltName = {_san(['127.0.0.1', '::1', 'localhost', host])}\n"
    _leaf("server", "/CN=kubesim", server_ext, directory)
    _leaf("client", f"/O={CLIENT_ORG}/CN={CLIENT_CN}",
          _LEAF_EXT.format(usage="clientAuth"), directory)


def _b64file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def _kubeconfig(server, cluster_extra, user):
    """A kubeconfig as YAML; values are written as JSON strings, which
    YAML reads as plain strings."""
    q = json.dumps
    lines = ["apiVersion: v1", "kind: Config", "clusters:",
             "- name: kubesim", "  cluster:", f"    server: {q(server)}"]
    lines += [f"    {k}: {q(v)}" for k, v in cluster_extra.items()]
    lines += ["users:", "- name: kubesim-user", "  user:"]
    lines += [f"    {k}: {q(v)}" for k, v in user.items()]
    lines += ["contexts:", "- name: kubesim", "  context:",
              "    cluster: kubesim", "    user: kubesim-user",
              "    namespace: default", "current-context: kubesim",
              "preferences: {}", ""]
    return "\n".join(lines)


def write_kubeconfigs(directory, https_url, http_url, token):
    """kubeconfig (CA file + token), kubeconfig-cert (inline CA and client
    cert), kubeconfig-http (plain HTTP + token), and the token alone."""
    ca = os.path.join(directory, "ca.crt")
    files = {
        "kubeconfig": _kubeconfig(https_url, {"certificate-authority": ca},
                                  {"token": token}),
        "kubeconfig-cert": _kubeconfig(
            https_url, {"certificate-authority-data": _b64file(ca)},
            {"client-certificate-data":
                _b64file(os.path.join(directory, "client.crt")),
             "client-key-data":
                _b64file(os.path.join(directory, "client.key"))}),
        "kubeconfig-http": _kubeconfig(http_url, {}, {"token": token}),
        "token": token,
    }
    for name, text in files.items():
        _write(os.path.join(directory, name), text, 0o600)
