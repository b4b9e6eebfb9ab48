#!/usr/bin/env python3
"""kubesim: a simulated Kubernetes API server for kinformer's tests.

Python standard library only; listens on loopback. See README.md beside
this file for the knobs and the /_sim/ control endpoints.
"""

import argparse
import os
import secrets
import signal
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
import sim_tls  # noqa: E402
from sim_api import Knobs, Sim  # noqa: E402
from sim_http import SimHTTPServer  # noqa: E402
from sim_resources import parse_resource_spec  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="kubesim", description="Simulated Kubernetes API server.")
    p.add_argument("--dir", required=True,
                   help="where certificates and kubeconfigs are written")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="HTTPS port")
    p.add_argument("--http-port", type=int, default=0, help="HTTP port")
    p.add_argument("--token", default=None,
                   help="bearer token (default: random)")
    p.add_argument("--kubelet-delay", type=float, default=0.3)
    p.add_argument("--no-kubelet", action="store_true")
    p.add_argument("--bookmark-interval", type=float, default=60.0)
    p.add_argument("--history", type=int, default=1000,
                   help="watch history length, in events")
    p.add_argument("--seed-pods", type=int, default=0,
                   help="create this many Running pods in default")
    p.add_argument("--resource", action="append", default=[],
                   metavar="GROUP/VERSION/PLURAL/KIND/namespaced|cluster",
                   help="serve one more kind (repeatable)")
    p.add_argument("--verbose", action="store_true",
                   help="log requests and errors to stderr")
    return p.parse_args(argv)


def server_context(directory):
    """TLS for the HTTPS listener: our server cert, and client certs
    checked against our CA when a client sends one."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(directory, "server.crt"),
                        os.path.join(directory, "server.key"))
    ctx.load_verify_locations(os.path.join(directory, "ca.crt"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


def url(scheme, host, port):
    return f"{scheme}://[{host}]:{port}" if ":" in host \
        else f"{scheme}://{host}:{port}"


def serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True,
                              kwargs={"poll_interval": 0.2})
    thread.start()


def main(argv=None):
    args = parse_args(argv)
    try:
        extra = [parse_resource_spec(spec) for spec in args.resource]
    except ValueError as err:
        sys.exit(f"kubesim: {err}")
    directory = os.path.abspath(args.dir)
    try:
        os.makedirs(directory, exist_ok=True)
        sim_tls.make_pki(directory, args.host)
    except (OSError, RuntimeError) as err:
        sys.exit(f"kubesim: cannot make certificates in {directory}: {err}")
    token = args.token or secrets.token_hex(16)
    knobs = Knobs(kubelet=not args.no_kubelet,
                  kubelet_delay=args.kubelet_delay,
                  bookmark_interval=args.bookmark_interval,
                  history=args.history, token=token)
    sim = Sim(knobs, args.verbose, extra)
    sim.registry.bootstrap(args.seed_pods)
    try:
        https = SimHTTPServer((args.host, args.port), sim,
                              server_context(directory))
        plain = SimHTTPServer((args.host, args.http_port), sim)
    except OSError as err:
        sys.exit(f"kubesim: cannot listen on {args.host}: {err}")
    https_url = url("https", args.host, https.server_address[1])
    http_url = url("http", args.host, plain.server_address[1])
    sim.server_address = https_url.split("://", 1)[1]
    sim_tls.write_kubeconfigs(directory, https_url, http_url, token)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    serve(https)
    serve(plain)
    kubeconfig = os.path.join(directory, "kubeconfig")
    print(f"kubesim listening on {https_url} ({http_url}), "
          f"kubeconfig {kubeconfig}", flush=True)
    while not stop.wait(0.5):
        pass
    sim.log("stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
