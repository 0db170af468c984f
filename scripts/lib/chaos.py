#!/usr/bin/env python3
"""Chaos run: a 3-node cluster of real processes over one Postgres, a webhook receiver, and partner
traffic spread over every node, through five faults. One table row per fault; exit 1 if a row
misses the bar: every request acknowledged in the end, 0 acknowledged events missing, 0 duplicated,
every expected alert delivered at least once, no 5xx other than 503, recovery within 15 s.

Traffic: batches of 10 events, each carrying a unique seq, and every 2 s an anomaly (an event
reported as critical on a fresh key: one critical_event alert each). Every ingest request carries
its own Idempotency-Key. One whose answer leaves it open whether it was stored (cut: no answer,
refused or reset connection, timeout; or 503, or 409 while its key is in flight) is retried with
the same key and the same bytes, on any node that should be serving, with backoff, for up to 30 s
after its first attempt, until it gets its 202 (a replay counts). So every request counts: an event
acknowledged at first or on a retry must be in Postgres exactly once, and a request never
acknowledged (still open at 30 s, or refused: a 422 on the byte-identical retry, a 5xx) fails the
row. A probe ingests through every node that should be serving, every 250 ms (its requests retried
the same way); recovery is the longest time any of them kept failing at the first attempt (for
the receiver outage: from its return until every alert raised before then is delivered).

Columns: requests sent; retried (first answer open), cut (of those, no answer at all); replayed
(retries answered Idempotent-Replayed: the first attempt had been stored); unacked; acknowledged
events, how many are in Postgres, missing, duplicated; alerts; 5xx other than 503; recovery.

Usage: chaos.py [--workdir DIR]
"""
import argparse, json, os, random, subprocess, sys, threading, time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos_requests import RETRYABLE, IngestRequest, Retries, post  # noqa: E402
from localcluster import LocalCluster, free_port  # noqa: E402

RECOVERY_BAR = 15
# How long an open request is retried after its first attempt: the recovery bar with as much again to spare.
RETRY_FOR = 2 * RECOVERY_BAR
# Longer than the default schedule so deliveries outlive a 30 s receiver outage.
NODE_ENV = {"KEYPULSE_WEBHOOK_ALLOWED_CIDRS": "127.0.0.0/8", "KEYPULSE_WEBHOOK_RETRY_DELAYS_MS": "1000,4000,16000,30000",
            "KEYPULSE_RATE_LIMIT_PER_MIN": "1000000", "KEYPULSE_RATE_LIMIT_REGISTER_PER_MIN": "1000",
            "KEYPULSE_HTTP_INSTANCES": "1"}


class Receiver:
    """The partners' webhook endpoint: counts alert deliveries by key; can go away and come back."""

    def __init__(self):
        self.port, self.hits, self.lock, self.server = free_port(), Counter(), threading.Lock(), None

    def start(self):
        hits, lock = self.hits, self.lock

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with lock:
                    hits[body.get("alert", {}).get("key_id")] += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Hook)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def delivered(self, keys):
        with self.lock:
            return sum(1 for k in keys if self.hits[k] > 0)


class Traffic:
    """Load, anomalies and probes for one scenario; nodes in `paused` get none of it. Every request
    carries its own Idempotency-Key; one whose answer leaves its fate open is retried (Retries)."""

    def __init__(self, cluster, partners, tag):
        self.cluster, self.partners, self.tag = cluster, partners, tag
        self.paused, self.acked, self.expected = set(), set(), set()
        self.codes, self.lock, self.stopping = Counter(), threading.Lock(), threading.Event()
        self.failing_since, self.worst_outage, self.seq = {}, 0.0, 0
        self.requests, self.retried, self.cut, self.replayed, self.unacked = 0, 0, 0, 0, []
        self.retries = Retries(self.retry, self.never_acked)

    def serving(self):
        return [n for n in self.cluster.nodes if n.alive() and n.index not in self.paused]

    def next_seqs(self, n):
        with self.lock:
            self.seq += n
            return [f"{self.tag}-{i}" for i in range(self.seq - n, self.seq)]

    def send(self, node, events, key, anomaly=None):
        """The first attempt of a new request; its status. An open answer hands it to the retries."""
        request = IngestRequest(events, key, RETRY_FOR, anomaly)
        status = self.attempt(node, request)
        with self.lock:
            self.requests += 1
            if status in RETRYABLE:
                self.retried += 1
                self.cut += status is None
        if status in RETRYABLE:
            self.retries.add(request)
        elif status != 202:
            self.never_acked(request)
        return status

    def attempt(self, node, request):
        status, replayed = request.send(node)
        with self.lock:
            self.codes[status or "no answer"] += 1
            self.replayed += replayed
            if status == 202:
                self.acked.update(request.seqs)
                if request.anomaly:
                    self.expected.add(request.anomaly)
        return status

    def retry(self, request):
        """One more attempt, on any node that should be serving; True once the request is settled."""
        nodes = self.serving()
        if not nodes:
            return False
        status = self.attempt(random.choice(nodes), request)
        if status in RETRYABLE:
            return False
        if status != 202:  # a 422 here means the node took the byte-identical retry for another request
            self.never_acked(request)
        return True

    def never_acked(self, request):
        """Refused for good (a 422, a 5xx but 503, ...) or still open at its deadline: the row fails."""
        with self.lock:
            self.unacked.append(request)

    def event(self, seq, key_id, **extra):
        return {"event_type": random.choice(["signing_operation", "key_accessed"]), "key_id": key_id,
                "data": {"seq": seq, "run": self.tag, "ip": "10.9.0.1", "actor": "chaos"}, **extra}

    def load(self):
        while not self.stopping.is_set():
            nodes, (key, _) = self.serving(), random.choice(self.partners)
            if nodes:
                seqs = self.next_seqs(10)
                self.send(random.choice(nodes), [self.event(s, f"k-{random.randrange(40)}") for s in seqs], key)
            time.sleep(0.05)

    def anomalies(self):
        n = 0
        while not self.stopping.wait(2):
            nodes, (key, _) = self.serving(), random.choice(self.partners)
            if nodes:
                n, key_id = n + 1, f"anomaly-{self.tag}-{n}"
                self.send(random.choice(nodes), [self.event(self.next_seqs(1)[0], key_id, severity="critical")],
                          key, anomaly=key_id)

    def probe(self):
        while not self.stopping.wait(0.25):
            now, key = time.time(), self.partners[0][0]
            for node in self.serving():
                ok = self.send(node, [self.event(self.next_seqs(1)[0], "probe")], key) == 202
                if node.index in self.paused:  # taken out while the probe was on its way
                    continue
                started = self.failing_since.get(node.index)
                if ok and started is not None:
                    self.worst_outage = max(self.worst_outage, time.time() - started)
                    del self.failing_since[node.index]
                elif not ok and started is None:
                    self.failing_since[node.index] = now

    def __enter__(self):
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.load, self.load, self.load,
                                                                           self.anomalies, self.probe)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(30)
        now = time.time()
        for started in self.failing_since.values():
            self.worst_outage = max(self.worst_outage, now - started)
        self.retries.drain()  # every open request settles or runs out of time (RETRY_FOR)

    def pause(self, node):
        self.paused.add(node.index)
        self.failing_since.pop(node.index, None)

    def resume(self, node):
        self.failing_since.pop(node.index, None)
        self.paused.discard(node.index)


# ---------------------------------------------------------------- the faults
def kill_node(cluster, traffic, receiver):
    node = cluster.nodes[1]
    node.kill9()  # traffic keeps coming until a load balancer would notice (1 s)
    time.sleep(1)
    traffic.pause(node)
    time.sleep(5)
    node.start()
    traffic.resume(node)


def restart_postgres(cluster, traffic, receiver):
    cluster.pg.stop()
    time.sleep(3)
    cluster.pg.start()


def receiver_down(cluster, traffic, receiver):
    receiver.stop()
    time.sleep(30)
    receiver.start()
    back, owed = time.time(), set(traffic.expected)
    # Recovery here: from the receiver's return until every alert raised before it is delivered.
    wait_for_quietly(lambda: receiver.delivered(owed) == len(owed), 60)
    traffic.worst_outage = max(traffic.worst_outage, time.time() - back)


def add_node(cluster, traffic, receiver):
    node = cluster.nodes[3]
    traffic.pause(node)  # a load balancer sends it traffic once /ready says so
    node.start()
    traffic.resume(node)
    cluster.size = 4


def rolling_restart(cluster, traffic, receiver):
    for node in cluster.nodes[:cluster.size]:
        status = node.terminate(90)  # under traffic: it must refuse or answer 503, never fail a request
        traffic.pause(node)
        if status not in (0, 143):
            print(f"  node {node.index} exited with {status} on SIGTERM", flush=True)
        node.start()
        traffic.resume(node)


SCENARIOS = [("kill -9 a node", kill_node), ("restart Postgres", restart_postgres),
             ("receiver down 30 s", receiver_down), ("add a fourth node", add_node),
             ("rolling restart", rolling_restart)]


# ---------------------------------------------------------------- checks
def stored(cluster, tag):
    """seq -> how many events carry it, for one scenario's traffic."""
    sql = f"SELECT details->>'seq', count(*) FROM events WHERE details->>'run' = '{tag}' GROUP BY 1"
    out = subprocess.run(["psql", cluster.pg.url, "-At", "-F", " ", "-c", sql], capture_output=True, text=True,
                         check=True).stdout
    return {seq: int(n) for seq, n in (line.split() for line in out.splitlines() if line.strip())}


def run(name, fault, cluster, partners, receiver, index):
    tag = f"s{index}-{int(time.time())}"
    began = time.time()
    with Traffic(cluster, partners, tag) as traffic:
        time.sleep(5)
        fault(cluster, traffic, receiver)
        time.sleep(8)
    counts = stored(cluster, tag)
    missing = len([s for s in traffic.acked if s not in counts])
    duplicates = len([s for s, n in counts.items() if n > 1])
    wait_for_quietly(lambda: receiver.delivered(traffic.expected) == len(traffic.expected), 120)
    delivered = receiver.delivered(traffic.expected)
    bad = sum(n for code, n in traffic.codes.items() if isinstance(code, int) and code >= 500 and code != 503)
    recovery = traffic.worst_outage if delivered == len(traffic.expected) else float("inf")
    for request in traffic.unacked[:10]:
        print(f"   never acknowledged: {request.describe()}", flush=True)
    row = {"scenario": name, "requests": traffic.requests, "retried": traffic.retried, "cut": traffic.cut,
           "replayed": traffic.replayed, "unacked": len(traffic.unacked), "acked": len(traffic.acked), "in_postgres": len(traffic.acked) - missing,
           "missing": missing, "duplicates": duplicates, "alerts_expected": len(traffic.expected),
           "alerts_delivered": delivered, "5xx_not_503": bad, "recovery_s": round(recovery, 1),
           "answers": dict(Counter({str(k): v for k, v in traffic.codes.items()})),
           "seconds": round(time.time() - began, 1)}
    row["ok"] = (missing == 0 and duplicates == 0 and not traffic.unacked and delivered == len(traffic.expected) and bad == 0
                 and recovery <= RECOVERY_BAR and len(traffic.acked) > 0)
    return row


def wait_for_quietly(predicate, seconds):
    end = time.time() + seconds
    while time.time() < end and not predicate():
        time.sleep(0.5)


def table(rows):
    head = ("scenario", "requests", "retried", "cut", "replayed", "unacked", "acked", "in_postgres", "missing", "duplicates", "alerts_expected", "alerts_delivered",
            "5xx_not_503", "recovery_s", "ok")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(str(r[h]) for h in head) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default=os.path.join("target", "chaos", time.strftime("%Y%m%dT%H%M%S")))
    args = ap.parse_args()
    random.seed(11)
    cluster = LocalCluster(os.path.abspath(args.workdir), 3, spare=1, env=NODE_ENV)
    receiver = Receiver()
    receiver.start()
    rows = []
    try:
        print(f"starting Postgres and 3 nodes (logs in {args.workdir}) ...", flush=True)
        cluster.start()
        partners = []
        for i in range(4):
            status, doc, _ = post(cluster.nodes[i % 3].url + "/api/v1/partners/register",
                               {"name": f"Chaos {i}", "webhook_url": f"http://127.0.0.1:{receiver.port}/hook"})
            if status != 201:
                raise SystemExit(f"registration failed: {status}")
            partners.append((doc["api_key"], doc["partner_id"]))
        for index, (name, fault) in enumerate(SCENARIOS, 1):
            print(f"-- {name} ...", flush=True)
            row = run(name, fault, cluster, partners, receiver, index)
            print(f"   {json.dumps(row)}", flush=True)
            rows.append(row)
    finally:
        cluster.stop()
        receiver.stop()
    report = table(rows)
    print(report)
    with open(os.path.join(args.workdir, "results.md"), "w") as f:
        f.write(report + "\n")
    sys.exit(0 if rows and all(r["ok"] for r in rows) and len(rows) == len(SCENARIOS) else 1)


if __name__ == "__main__":
    main()
