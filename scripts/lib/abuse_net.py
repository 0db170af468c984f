"""HTTP/1.1 over raw asyncio streams for scripts/abuse.

No HTTP library between the suite and the bytes: an attack has to send what a well-behaved client
never would (half a header, a body that never ends), and every connection is bound to a chosen
source address (Linux loopback answers for all of 127/8, so one machine can be a botnet).
"""
import asyncio, errno, math, random, resource, string
from collections import Counter, namedtuple

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
CONNECT_TIMEOUT = 5
REQUEST_TIMEOUT = 10
# What a broken connection raises while we read or write it.
BROKEN = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError)

Target = namedtuple("Target", "host port")
Response = namedtuple("Response", "status headers body")


def random_key():
    """Well-formed as Credentials.wellFormed wants it, and unknown: it gets past the shape check."""
    return "pk_live_" + "".join(random.choices(BASE62, k=40))


def sources(row, group, n):
    """n source addresses of their own for one part of one row: a per-address window that one row
    used up must not soften (or harden) the next."""
    return [f"127.{row}.{group}.{i}" for i in range(1, n + 1)]


def raise_fd_limit(need):
    """Soft limit up to the hard one: thousands of sockets here, and the node inherits it too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if want < need:
        raise SystemExit(f"scripts/abuse needs {need} open files, and the hard limit is {hard} (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


async def within(seconds, awaitable):
    """TimeoutError after `seconds`. Not asyncio.wait_for: on Python 3.11 it can swallow a
    cancellation that races with the result, and a slot that ignores its cancel never ends."""
    async with asyncio.timeout(seconds):
        return await awaitable


async def connect(target, source):
    return await within(CONNECT_TIMEOUT, asyncio.open_connection(target.host, target.port, local_addr=(source, 0)))


def close(writer):
    if writer is not None:
        writer.transport.abort()


def request(target, method, path, headers=None, body=None, end=True):
    """The request's bytes; end=False leaves the header block open (for slowloris)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {target.host}:{target.port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    text = "\r\n".join(lines) + "\r\n"
    return (text + "\r\n" if end else text).encode() + (body or b"")


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def read_response(reader):
    status, headers = parse_head(await reader.readuntil(b"\r\n\r\n"))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                break
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif status in (204, 304) or status < 200:
        body = b""
    else:
        body = await reader.read()
    return Response(status, headers, body)


def keeps_alive(response):
    return response.headers.get("connection", "").lower() != "close"


def retry_after(headers, default=1.0, cap=5.0):
    try:
        return min(max(float(headers.get("retry-after", default)), 0.2), cap)
    except ValueError:
        return default


def p99(values):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


class Tally:
    """What one row's hostile requests got back. `bad` holds the answers that miss the bar:
    any 5xx but a 503 with Retry-After, and a 401 to a credential we know is valid."""

    def __init__(self):
        self.sent, self.attempts, self.answers, self.bad = 0, 0, Counter(), Counter()
        self.holding, self.held_at_end, self.ended = 0, None, 0
        self.stopping = False  # the window is over: slots leave their loops

    def answer(self, status, headers, valid_credential=False):
        self.answers[status] += 1
        if status >= 500 and not (status == 503 and "retry-after" in headers):
            self.bad[f"{status}" + (" without Retry-After" if status == 503 else "")] += 1
        if status == 401 and valid_credential:
            self.bad["401 to a valid credential"] += 1

    def none(self, why):
        """No answer: 'closed' (cut without one), 'timeout', or a failed connect (below)."""
        self.answers[why] += 1

    def unconnected(self, error):
        """A connect that failed: refused, timed out, or something on our side (EMFILE, EADDRNOTAVAIL)."""
        if isinstance(error, ConnectionRefusedError):
            self.none("refused")
        elif isinstance(error, TimeoutError):
            self.none("connect timeout")
        else:
            self.none(f"connect {errno.errorcode.get(error.errno, error.errno)}")

    def by_class(self):
        out = Counter()
        for status, n in self.answers.items():
            out[f"{status // 100}xx" if isinstance(status, int) else "none"] += n
        return out


class Client:
    """One keep-alive connection from one source address, one request at a time."""

    def __init__(self, target, source):
        self.target, self.source, self.reader, self.writer = target, source, None, None
        self.connect_ms = None  # how long the last call waited for a new connection, if it made one

    async def call(self, method, path, headers=None, body=None):
        """The Response; raises TimeoutError or one of BROKEN when there is none."""
        self.connect_ms = None
        if self.writer is None or self.writer.is_closing():
            began = asyncio.get_running_loop().time()
            self.reader, self.writer = await connect(self.target, self.source)
            self.connect_ms = (asyncio.get_running_loop().time() - began) * 1000
        try:
            self.writer.write(request(self.target, method, path, headers, body))
            response = await within(REQUEST_TIMEOUT, read_response(self.reader))
        except BaseException:
            self.close()
            raise
        if not keeps_alive(response):
            self.close()
        return response

    def close(self):
        close(self.writer)
        self.reader = self.writer = None
