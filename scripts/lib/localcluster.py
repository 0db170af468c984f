"""Processes of a local KeyPulse cluster on loopback: one embedded Postgres, N nodes.

Used by `scripts/keypulse cluster` (to try a cluster out) and `scripts/chaos` (to break one).
Every process runs target/keypulse.jar; logs go to the work directory.
"""
import base64, json, os, secrets, signal, socket, subprocess, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JAR = os.path.join(ROOT, "target", "keypulse.jar")
OPENS = ["--add-modules", "java.se", "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
         "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
         "--add-opens", "java.management/sun.management=ALL-UNNAMED",
         "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED"]
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, seconds, what):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def java(args, log_path, env=None, heap="512m"):
    log = open(log_path, "ab")
    # An OutOfMemoryError ends the process: a half-dead node is worse than a dead one.
    return subprocess.Popen(["java", f"-Xmx{heap}", "-XX:+ExitOnOutOfMemoryError",
                             "-Dhazelcast.wait.seconds.before.join=0", *OPENS,
                             "-jar", JAR, *args], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})}, start_new_session=True)


class Postgres:
    """The embedded Postgres alone (`keypulse postgres`), restartable on the same port and files."""

    def __init__(self, workdir, port=None):
        self.dir, self.port = os.path.join(workdir, "pg"), port or free_port()
        self.log = os.path.join(workdir, "postgres.log")
        self.proc = None

    def start(self):
        url_file = os.path.join(self.dir, "pg-url")
        if os.path.exists(url_file):
            os.remove(url_file)
        self.proc = java(["postgres", "--data-dir", self.dir, "--pg-port", str(self.port)], self.log, heap="256m")
        wait_for(lambda: os.path.exists(url_file) or self.proc.poll() is not None, 120, "Postgres")
        if self.proc.poll() is not None:
            raise SystemExit(f"Postgres did not start; see {self.log}")
        with open(url_file) as f:
            self.url = f.read().strip()
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)


class Node:
    """One KeyPulse node process (`keypulse node`)."""

    def __init__(self, index, workdir, cluster):
        self.index, self.cluster = index, cluster
        self.http_port, self.cluster_port = cluster.http_ports[index], cluster.cluster_ports[index]
        self.dir = os.path.join(workdir, f"node{index}")
        self.log = os.path.join(workdir, f"node{index}.log")
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.proc = None

    def start(self, wait=True):
        os.makedirs(self.dir, exist_ok=True)
        env = {**self.cluster.env, "KEYPULSE_DATA_DIR": self.dir}
        self.proc = java(["node", "--pg", self.cluster.pg.url, "--join", self.cluster.members,
                          "--http-port", str(self.http_port), "--cluster-port", str(self.cluster_port),
                          "--cluster-name", self.cluster.name], self.log, env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, seconds=120):
        wait_for(lambda: self.ready() or self.proc.poll() is not None, seconds, f"node {self.index}")
        if self.proc.poll() is not None:
            raise SystemExit(f"node {self.index} exited; see {self.log}")

    def ready(self):
        try:
            with OPENER.open(self.url + "/ready", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def terminate(self, seconds=60):
        """SIGTERM: the node drains and leaves; returns its exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(seconds)


class LocalCluster:
    """N nodes over one Postgres, sharing secrets; room reserved for extra members to join later."""

    def __init__(self, workdir, nodes, spare=0, env=None, name=None, http_base=None):
        os.makedirs(workdir, exist_ok=True)
        self.workdir, self.name = workdir, name or f"keypulse-local-{secrets.token_hex(3)}"
        total = nodes + spare
        self.http_ports = [http_base + i if http_base else free_port() for i in range(total)]
        self.cluster_ports = [free_port() for _ in range(total)]
        self.members = ",".join(f"127.0.0.1:{p}" for p in self.cluster_ports)
        self.admin_token = secrets.token_hex(16)
        self.env = {"KEYPULSE_ADMIN_TOKEN": self.admin_token,
                    "KEYPULSE_SECRETS_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                    "KEYPULSE_LIVE_JWT_SECRET": secrets.token_urlsafe(32), **(env or {})}
        self.pg = Postgres(workdir)
        self.nodes = [Node(i, workdir, self) for i in range(total)]
        self.size = nodes

    def start(self):
        self.pg.start()
        for node in self.nodes[:self.size]:
            node.start(wait=False)
        for node in self.nodes[:self.size]:
            node.wait_ready()
        return self

    def live_nodes(self):
        return [n for n in self.nodes if n.alive()]

    def stop(self):
        for node in self.live_nodes():
            try:
                node.terminate(60)
            except subprocess.TimeoutExpired:
                node.proc.kill()
        self.pg.stop()

    def describe(self):
        return json.dumps({"postgres": self.pg.url.split("@")[-1], "admin_token": self.admin_token,
                           "nodes": [n.url for n in self.nodes[:self.size]]}, indent=2)
