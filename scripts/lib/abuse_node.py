"""The node under attack for scripts/abuse: started, watched (RSS, open files, log) and stopped.

One node as an operator would start it (`scripts/keypulse run --ephemeral`, default settings,
-Xmx512m), with a cluster name and member port of its own so it never joins another KeyPulse on
this machine. The admin token comes from the environment rather than <data-dir>/admin-token: an
ephemeral data directory's name is not known in advance.
"""
import os, re, secrets, shutil, signal, subprocess, tempfile, time, urllib.error

from localcluster import OPENER, ROOT, listen_port

ERROR_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} ERROR ")
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} ")
PG_DATA = re.compile(r"embedded Postgres up on .* data in (\S+)\)")


def http_ok(url, timeout=2):
    try:
        with OPENER.open(url, timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def gone(pid, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.25)
    return False


def java_process(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() == "java":
                return pid
        found = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += f.read().split()
    except OSError:
        return None
    for child in found:
        java = java_process(int(child))
        if java:
            return java
    return None


class Node:
    """A node of our own: its java process (not the launcher's shell) is the one measured."""

    def __init__(self, workdir):
        self.log = os.path.join(workdir, "node.log")
        # The JVM's own pauses (safepoints, ZGC allocation stalls): a victim's slow second is a pause
        # of the node's JVM, of its Postgres or of the machine, and this log rules the first in or out.
        self.jvm_log = os.path.join(workdir, "jvm-pauses.log")
        self.admin_token = secrets.token_hex(16)
        self.proc, self.pid, self.url, self.notes = None, None, None, []

    def start(self, attempts=2):
        """Up to `attempts` starts on fresh ports: on a busy machine a port found free may be taken
        before the node binds it."""
        for attempt in range(1, attempts + 1):
            if self.start_once():
                return
            self.stop()
            if attempt == attempts:
                raise SystemExit(f"the node did not become ready; see {self.log}")

    def start_once(self):
        self.port, self.log_from = listen_port(), self.log_size()
        self.url = f"http://127.0.0.1:{self.port}"
        # The last -Xmx wins: whatever JAVA_OPTS says, the node gets the 512 MB.
        java_opts = (f"{os.environ.get('JAVA_OPTS', '')} -Xmx512m -Dhazelcast.wait.seconds.before.join=0 "
                     f"-Xlog:gc,safepoint:file={self.jvm_log}::filecount=0").strip()
        env = {**os.environ, "KEYPULSE_ADMIN_TOKEN": self.admin_token, "JAVA_OPTS": java_opts}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [os.path.join(ROOT, "scripts", "keypulse"), "run", "--ephemeral", "--port", str(self.port),
                 "--cluster-name", f"keypulse-abuse-{secrets.token_hex(3)}", "--cluster-port", str(listen_port())],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=ROOT,
                preexec_fn=normal_priority)
        end = time.time() + 180
        while time.time() < end and self.proc.poll() is None and not self.ready():
            time.sleep(0.5)
        if not self.ready():
            return False
        end = time.time() + 10  # the line follows /ready by a moment
        while not self.logged_ready():
            if time.time() > end:
                raise SystemExit(f"no 'KeyPulse ready at' line of the expected format in {self.log}: "
                                 "update abuse_node.LOG_LINE, or the ERROR counts mean nothing")
            time.sleep(0.2)
        self.pid = java_process(self.proc.pid)
        if self.pid is None:
            raise SystemExit("cannot find the node's java process")
        return True

    def ready(self):
        return http_ok(self.url + "/ready")

    def logged_ready(self):
        with open(self.log, "rb") as f:
            f.seek(self.log_from)
            return any(LOG_LINE.match(line.decode("utf-8", "replace")) and b"KeyPulse ready at" in line for line in f)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None and self.status("State") not in (None, "Z")

    def status(self, field):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return line.split()[1]
        except (OSError, TypeError):
            return None

    def rss_mb(self):
        """The node's memory as PSS: VmRSS counts a page once per mapping, and ZGC maps its heap three
        times, so RSS would show up to 3x the memory really used."""
        try:
            with open(f"/proc/{self.pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        return round(int(line.split()[1]) / 1024)
        except (OSError, TypeError, ValueError):
            pass
        kb = self.status("VmRSS")
        return round(int(kb) / 1024) if kb else None

    def open_files(self):
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except (OSError, TypeError):
            return None

    def log_size(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def jvm_log_size(self):
        return os.path.getsize(self.jvm_log) if os.path.exists(self.jvm_log) else 0

    def stop(self):
        """SIGTERM; SIGKILL to the whole group after 20 s. Then what the node should have cleaned up
        itself (issue 11, point 6): a Postgres still running on its data and its temporary directory."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.notes.append("ignored SIGTERM for 20 s: killed")
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)
        self.stop_orphans()
        self.proc = None

    def stop_orphans(self):
        with open(self.log, "rb") as f:
            f.seek(self.log_from)
            found = PG_DATA.findall(f.read().decode("utf-8", "replace"))
        if not found:
            return
        pg_data = found[-1]
        try:
            with open(os.path.join(pg_data, "postmaster.pid")) as f:
                pid = int(f.readline())
            with open(f"/proc/{pid}/comm") as f:
                if "postgres" in f.read():
                    self.notes.append(f"left its embedded Postgres running (pid {pid}): stopped by the suite")
                    os.kill(pid, signal.SIGINT)  # Postgres' fast shutdown
                    if not gone(pid, 15):
                        os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass
        scratch = os.path.dirname(pg_data)
        if os.path.basename(scratch).startswith("keypulse-") and os.path.dirname(scratch) == tempfile.gettempdir():
            if os.path.isdir(scratch):
                self.notes.append(f"left {scratch} behind: removed by the suite")
                shutil.rmtree(scratch, ignore_errors=True)


class RemoteNode:
    """--url: a node someone else started. No process to measure, no log, no restart."""

    def __init__(self, url, admin_token):
        self.url, self.admin_token, self.log, self.notes, self.pid = url.rstrip("/"), admin_token, None, [], None

    def ready(self):
        return http_ok(self.url + "/ready")

    def alive(self):
        return http_ok(self.url + "/health")

    def rss_mb(self):
        return None

    def open_files(self):
        return None

    def log_size(self):
        return 0

    def jvm_log_size(self):
        return 0

    def stop(self):
        pass


def log_counts(path, start):
    """Lines, ERROR lines and stack traces the node logged after byte `start`: a trace begins at an
    indented 'at ...' line that follows an unindented line other than 'Caused by:'."""
    if path is None:
        return None
    lines = errors = traces = ooms = 0
    previous = ""
    with open(path, "rb") as f:
        f.seek(start)
        for raw in f:
            line = raw.decode("utf-8", "replace")
            if LOG_LINE.match(line):
                lines += 1
                errors += bool(ERROR_LINE.match(line))
            if line.lstrip().startswith("at ") and line[:1].isspace() and not previous[:1].isspace() \
                    and not previous.startswith("Caused by"):
                traces += 1
            ooms += "OutOfMemoryError" in line
            previous = line
    return {"lines": lines, "errors": errors, "traces": traces, "out_of_memory": ooms}


SAFEPOINT_TOTAL = re.compile(r"Safepoint \"(\w+)\".*Total: (\d+) ns")
ALLOCATION_STALL = re.compile(r"Allocation Stall \(.*\) ([\d.]+)ms")


def jvm_pauses(path, start):
    """The node JVM's longest safepoint (ms, with its operation) and its ZGC allocation stalls
    (count, longest ms) logged after byte `start`; None without a log. A restarted node begins a
    new log: then from its start."""
    if path is None or not os.path.exists(path):
        return None
    longest, operation, stalls, longest_stall = 0.0, None, 0, 0.0
    with open(path, "rb") as f:
        f.seek(start if start <= os.path.getsize(path) else 0)
        for raw in f:
            line = raw.decode("utf-8", "replace")
            if m := SAFEPOINT_TOTAL.search(line):
                ms = int(m.group(2)) / 1e6
                if ms > longest:
                    longest, operation = ms, m.group(1)
            elif m := ALLOCATION_STALL.search(line):
                stalls, longest_stall = stalls + 1, max(longest_stall, float(m.group(1)))
    return {"safepoint_ms": round(longest, 1), "safepoint": operation, "stalls": stalls,
            "stall_ms": round(longest_stall, 1)}


def normal_priority():
    """The node runs at normal priority even when started by the (niced) attackers' process: only
    the attackers give way (see abuse.py, ATTACKER_NICE). Lowering a nice value needs root; without
    it the node keeps the attackers' priority, which only makes the bars harder to meet."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except PermissionError:
        pass
