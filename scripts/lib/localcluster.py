"""Processes of a local KeyPulse cluster on loopback: one embedded Postgres, N nodes.

Used by `scripts/keypulse cluster` (to try a cluster out) and `scripts/chaos` (to break one); its
ports helpers by `scripts/abuse` and `scripts/bench` too.
Every process runs target/keypulse.jar; logs go to the work directory.
"""
import base64, json, os, random, secrets, signal, socket, subprocess, time, urllib.error, urllib.request

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


_HANDED_OUT = set()


def listen_port():
    """A free port below the ephemeral range, where no outgoing connection (the node's own to its
    Postgres, say) can take it between our check and the node's bind; never one handed out before
    in this process, which may not have been bound yet."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    for _ in range(100):
        port = random.randrange(max(1024, low - 12000), low)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    return free_port()


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
        self.dir, self.port = os.path.join(workdir, "pg"), port or listen_port()
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
        self.proc, self.reported = None, False

    def start(self, wait=True):
        os.makedirs(self.dir, exist_ok=True)
        self.proc = java(self.cluster.node_args(self.dir, self.http_port, self.cluster_port), self.log, self.cluster.env)
        self.reported = False
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


def private_file(path, text):
    """Written readable by its owner only, as a node writes its own secrets."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


class LocalCluster:
    """N nodes over one Postgres, sharing secrets; room reserved for extra members to join later.

    The cluster is described by its join file (DIR/join.json): name, members, the Postgres URL's file,
    the secrets' files (DIR/secrets, generated once and kept) and the settings every member shares.
    Every node starts from it, and so does any member an operator adds (`add_command`).
    """

    def __init__(self, workdir, nodes, spare=0, env=None, name=None, http_base=None):
        os.makedirs(workdir, exist_ok=True)
        self.workdir, self.name = workdir, name or f"keypulse-local-{secrets.token_hex(3)}"
        total = nodes + spare
        self.http_ports = [http_base + i if http_base else listen_port() for i in range(total)]
        self.cluster_ports = [listen_port() for _ in range(total)]
        self.members = ",".join(f"127.0.0.1:{p}" for p in self.cluster_ports)
        self.join_file = os.path.join(workdir, "join.json")
        self.secret_files = self._secrets(os.path.join(workdir, "secrets"))
        with open(self.secret_files["admin_token"]) as f:
            self.admin_token = f.read().strip()
        # Settings every member shares go into the join file; the rest of env is this process's own.
        env = dict(env or {})
        self.shared = {k: env.pop(v) for k, v in {"webhook.allowed_cidrs": "KEYPULSE_WEBHOOK_ALLOWED_CIDRS"}.items()
                       if v in env}
        self.env = env
        self.pg = Postgres(workdir)
        self.nodes = [Node(i, workdir, self) for i in range(total)]
        self.size = nodes

    @staticmethod
    def _secrets(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        generate = {"admin_token": lambda: secrets.token_hex(16),
                    "jwt_secret": lambda: secrets.token_urlsafe(32),
                    "master_key": lambda: base64.b64encode(secrets.token_bytes(32)).decode()}
        files = {}
        for name, make in generate.items():
            files[name] = os.path.join(directory, name.replace("_", "-"))
            if not os.path.exists(files[name]):
                private_file(files[name], make())
        return files

    def write_join_file(self):
        members = [f"127.0.0.1:{p}" for p in self.cluster_ports[:self.size]]
        with open(self.join_file, "w") as f:
            json.dump({"cluster_name": self.name, "members": members,
                       "http_urls": [n.url for n in self.nodes[:self.size]],
                       "pg_url_file": os.path.join(self.pg.dir, "pg-url"),
                       "secrets": self.secret_files, "settings": self.shared}, f, indent=2)
            f.write("\n")

    def node_args(self, data_dir, http_port, cluster_port):
        return ["node", "--join-file", self.join_file, "--data-dir", data_dir,
                "--http-port", str(http_port), "--cluster-port", str(cluster_port)]

    def add_command(self):
        """The exact command that adds one more member, with ports free right now."""
        index = len(self.nodes)
        http, cluster = listen_port(), listen_port()
        return " ".join(["scripts/keypulse", *self.node_args(os.path.join(self.workdir, f"node{index}"), http, cluster)])

    def start(self):
        self.pg.start()
        self.write_join_file()
        for node in self.nodes[:self.size]:
            node.start(wait=False)
        for node in self.nodes[:self.size]:
            node.wait_ready()
        return self

    def stopped(self):
        """Members that have exited since last asked, each reported once (and reaped: poll() waits for it)."""
        gone = []
        for node in self.nodes:
            if node.proc is not None and not getattr(node, "reported", False) and node.proc.poll() is not None:
                node.reported = True
                gone.append(node)
        return gone

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
        return "\n".join([
            f"cluster {self.name}: {self.size} nodes over Postgres at {self.pg.url.split('@')[-1]}",
            *[f"  node{n.index}  {n.url}  (cluster port {n.cluster_port}, log {n.log})" for n in self.nodes[:self.size]],
            f"join file: {self.join_file}",
            f"admin token: {self.secret_files['admin_token']} (scripts/keypulse admin reads it through the join file)",
            "add a member:",
            f"  {self.add_command()}"])
