"""HTTP/1.1 transport: threaded listeners (TLS or plain), request parsing,
JSON answers and chunked streams. What to answer is decided in sim_api.
"""

import gzip
import http.server
import json
import socket
import ssl
import struct
import sys
import uuid
import weakref
from urllib.parse import parse_qsl, unquote, urlsplit

from sim_status import bad_request, status_body

GZIP_MIN = 128 * 1024  # kube-apiserver compresses bodies above 128 KiB


class SimHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, sim, ssl_ctx=None):
        self.address_family = socket.AF_INET6 if ":" in address[0] \
            else socket.AF_INET
        self.sim = sim
        self.ssl_ctx = ssl_ctx
        self.reset_requests = weakref.WeakSet()
        super().__init__(address, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # Small writes (one watch event each) must leave at once.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_ctx is not None:
            # The handshake runs in the connection's own thread (setup),
            # so one slow client cannot hold up accept().
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def shutdown_request(self, request):
        # A connection ended with "rst" must not send a FIN first: close
        # it with SO_LINGER 0 so that the kernel resets it.
        if request in self.reset_requests:
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # Clients that vanish or fail the handshake are normal in tests.
        if self.sim.verbose:
            print(f"kubesim: connection from {client_address}: "
                  f"{sys.exc_info()[1]!r}", file=sys.stderr)


class Request:
    """What sim_api needs to know about one request."""

    def __init__(self, handler, method, target, body):
        self.handler = handler
        self.method = method
        parts = urlsplit(target)
        self.raw_path = parts.path
        self.path = unquote(parts.path)
        self.segments = [unquote(s) for s in parts.path.split("/") if s]
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = handler.headers
        self.body = body
        self.user = None
        self.log = None  # this request's entry in the request log

    def json(self, allow_empty=False):
        if not self.body.strip():
            if allow_empty:
                return {}
            raise _bad_body("empty request body")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as err:
            raise _bad_body(str(err)) from None

    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0] \
            .strip().lower()


def _bad_body(why):
    return bad_request(f"the body of the request could not be decoded: "
                       f"{why}")


class ChunkOut:
    """The body of a chunked response, one chunk per write."""

    def __init__(self, handler):
        self.handler = handler
        self.sock = handler.connection

    def chunk(self, data):
        if data:
            self.handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end(self, mode):
        """clean: terminating chunk; abrupt: close with no terminator;
        rst: reset the connection; gone: the client already left."""
        handler = self.handler
        if mode == "clean":
            try:
                handler.wfile.write(b"0\r\n\r\n")
                return
            except OSError:
                pass
        handler.close_connection = True
        try:
            if mode == "rst":
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
                handler.server.reset_requests.add(self.sock)
            else:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 900  # idle keep-alive connections and stuck clients

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, fmt, *args):
        if self.server.sim.verbose:
            sys.stderr.write("kubesim: %s %s\n" % (self.address_string(),
                                                   fmt % args))

    def send_response(self, code, message=None):
        # Like the real server: no Server header, a Date and an Audit-Id.
        if self.request_log is not None:
            self.request_log["status"] = code
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Date", self.date_time_string())

    request_log = None
    streaming = False

    def send_error(self, code, message=None, explain=None):
        """Malformed requests get a Status too, not an HTML page."""
        reason = "BadRequest" if code == 400 else None
        body = json.dumps(status_body(code, reason, message or "bad "
                                      "request")).encode()
        self.close_connection = True
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self):
        self.request_log = None
        self.streaming = False
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        req = Request(self, self.command, self.path, body)
        self.server.sim.handle(req)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
    do_HEAD = do_OPTIONS = do_CONNECT = do_TRACE = _serve

    # -- answers -----------------------------------------------------------

    def accepts_gzip(self):
        return "gzip" in (self.headers.get("Accept-Encoding") or "")

    def send_body(self, code, body, content_type="application/json",
                  headers=None, compress=False):
        if compress and len(body) >= GZIP_MIN and self.accepts_gzip():
            body = gzip.compress(body, compresslevel=1)
            headers = dict(headers or {}, **{"Content-Encoding": "gzip"})
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, code, obj, headers=None):
        body = obj if isinstance(obj, bytes) else \
            json.dumps(obj, separators=(",", ":")).encode()
        self.send_body(code, body, headers=headers, compress=True)

    def start_stream(self):
        """Headers of a watch: 200, chunked JSON."""
        self.streaming = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        return ChunkOut(self)

    def client_cert_user(self):
        """CN of a client certificate verified against our CA, if any."""
        if not isinstance(self.connection, ssl.SSLSocket):
            return None
        cert = self.connection.getpeercert()
        for rdn in (cert or {}).get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return None
