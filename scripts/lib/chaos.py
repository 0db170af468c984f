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
from chaos_requests import post  # noqa: E402
from chaos_traffic import Traffic  # noqa: E402
from localcluster import LocalCluster, listen_port  # noqa: E402

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
        self.port, self.hits, self.lock, self.server = listen_port(), Counter(), threading.Lock(), None

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
    with Traffic(cluster, partners, tag, RETRY_FOR) as traffic:
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
    explain(traffic)
    row = {"scenario": name, "requests": traffic.requests, "retried": traffic.retried, "cut": traffic.cut,
           "replayed": len(traffic.replayed), "unacked": len(traffic.unacked),
           "acked": len(traffic.acked), "in_postgres": len(traffic.acked) - missing,
           "missing": missing, "duplicates": duplicates, "alerts_expected": len(traffic.expected),
           "alerts_delivered": delivered, "5xx_not_503": bad, "recovery_s": round(recovery, 1),
           "answers": dict(Counter({str(k): v for k, v in traffic.codes.items()})),
           "seconds": round(time.time() - began, 1)}
    row["ok"] = (missing == 0 and duplicates == 0 and not traffic.unacked and delivered == len(traffic.expected)
                 and bad == 0 and recovery <= RECOVERY_BAR and len(traffic.acked) > 0)
    return row


def explain(traffic):
    """The requests worth a look by name: answered from an earlier attempt, and never acknowledged."""
    for request in traffic.replayed[:10]:
        print(f"   stored at an earlier attempt, replayed: {request.describe()}", flush=True)
    for request in traffic.unacked[:10]:
        print(f"   never acknowledged: {request.describe()}", flush=True)


def wait_for_quietly(predicate, seconds):
    end = time.time() + seconds
    while time.time() < end and not predicate():
        time.sleep(0.5)


def table(rows):
    head = ("scenario", "requests", "retried", "cut", "replayed", "unacked", "acked", "in_postgres", "missing",
            "duplicates", "alerts_expected", "alerts_delivered", "5xx_not_503", "recovery_s", "ok")
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
