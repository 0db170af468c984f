#!/usr/bin/env python3
"""KeyPulse demo: a partner with a week of history, live traffic with anomalies, a webhook receiver.

Registers a demo partner on a node (or reuses the one it registered before), starts a webhook
receiver on loopback that verifies every delivery's HMAC signature and prints the alert, points
the partner's webhook at it, backfills a week of activity for a dozen keys through occurred_at,
then sends live traffic with injected anomalies: a signing spike, an export from a new IP, a key
past its rotation policy and an exports cap breached. Within a minute the dashboard and the
receiver show real alerts. Runs until Ctrl-C (or --seconds).

Usage: demo.py --url URL [--admin-token T] [--seconds N] [--state FILE]
"""
import argparse, hashlib, hmac, json, os, random, sys, threading, time, urllib.error, urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
NOW = datetime.now(timezone.utc)
HOURS = 7 * 24

# key id -> (kind, events per hour, IPs, actors); kind decides the event types and the daily shape.
KEYS = {
    "hot-wallet-eth": ("signing", 14, ["10.20.0.11", "10.20.0.12"], ["tx-signer"]),
    "hot-wallet-btc": ("signing", 8, ["10.20.0.21"], ["tx-signer"]),
    "hot-wallet-sol": ("signing", 6, ["10.20.0.31"], ["tx-signer", "staking-bot"]),
    "treasury-multisig": ("office", 4, ["10.50.1.5"], ["treasury-ops"]),
    "payroll-signer": ("office", 3, ["10.50.1.8"], ["payroll"]),
    "kms-data-key-1": ("access", 6, ["10.30.0.4", "10.30.0.5"], ["orders-api"]),
    "kms-data-key-2": ("access", 4, ["10.30.0.6"], ["billing-api"]),
    "backup-key": ("export", 0.25, ["10.40.0.9"], ["backup-job"]),
    "cold-vault-btc": ("access", 0.1, ["10.60.0.2"], ["vault-officer"]),
    "hsm-root-ca": ("access", 0.05, ["10.60.0.3"], ["pki-admin"]),
    "legacy-signer": ("signing", 3, ["10.20.0.99"], ["legacy-batch"]),
    "api-gateway-tls": ("access", 2, ["10.70.0.1"], ["gateway"]),
}
# An export, in the partner dialect, is an access flagged data.export = true.
EVENT_TYPE = {"signing": "signing_operation", "office": "signing_operation", "access": "key_accessed",
              "export": "key_accessed"}


def say(text):
    print(time.strftime("%H:%M:%S"), text, flush=True)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Node:
    def __init__(self, url, api_key=None):
        self.url, self.api_key = url.rstrip("/"), api_key

    def call(self, method, path, body=None, headers=None):
        """(status, JSON answer); waits out 429 and 503 as a well-behaved partner does."""
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", **({"X-API-Key": self.api_key} if self.api_key else {}),
                **(headers or {})}
        for _ in range(30):
            req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
            try:
                with OPENER.open(req, timeout=30) as r:
                    return r.status, json.loads(r.read() or b"{}")
            except urllib.error.HTTPError as e:
                if e.code in (429, 503):
                    time.sleep(float(e.headers.get("Retry-After") or 1))
                    continue
                return e.code, json.loads(e.read() or b"{}")
        raise SystemExit(f"{method} {path}: the node kept answering 429/503")


# ---------------------------------------------------------------- the partner
def partner(node, state_file, admin_token):
    saved = {}
    if os.path.exists(state_file):
        with open(state_file) as f:
            saved = json.load(f).get(node.url, {})
    # A partner is reused for a day; after that its week of history has aged, and a new one starts clean.
    if saved and time.time() - saved.get("backfilled_at", 0) < 86400:
        node.api_key = saved["api_key"]
        status, _ = node.call("GET", "/api/keys?limit=1")
        if status == 200:
            say(f"reusing demo partner {saved['partner_id']}")
            return saved
        node.api_key = None
    status, doc = node.call("POST", "/api/v1/partners/register", {"name": "Demo Custody Co"})
    if status != 201:
        raise SystemExit(f"registration refused: {status} {doc}")
    saved = {k: doc[k] for k in ("partner_id", "api_key", "webhook_secret")}
    node.api_key = saved["api_key"]
    remember(state_file, node.url, saved)
    say(f"registered demo partner {saved['partner_id']}")
    if admin_token:
        s, _ = Node(node.url).call("PUT", f"/admin/partners/{saved['partner_id']}/plan",
                                   {"rate_limit_per_min": 6000}, {"Authorization": f"Bearer {admin_token}"})
        if s == 200:
            say("raised the demo partner's rate limit to 6000/min (admin API)")
    return saved


def remember(state_file, url, partner_state):
    """The demo partner per node URL, key and secret included: readable by its owner only."""
    everything = {}
    if os.path.exists(state_file):
        with open(state_file) as f:
            everything = json.load(f)
    everything[url] = partner_state
    os.makedirs(os.path.dirname(os.path.abspath(state_file)), exist_ok=True)
    with open(state_file, "w") as f:
        json.dump(everything, f, indent=2)
    os.chmod(state_file, 0o600)


# ---------------------------------------------------------------- the webhook receiver
def receiver(secret, received):
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(expected, self.headers.get("X-KeyPulse-Signature", ""))
            self.send_response(200 if ok else 401)
            self.end_headers()
            doc = json.loads(body or b"{}")
            alert = doc.get("alert", {})
            rule = alert.get("rule") or alert.get("rule_name") or doc.get("event")
            received.append((ok, rule, alert.get("key_id")))
            mark = "signature verified" if ok else "BAD SIGNATURE"
            escalated = f" (alert {alert.get('alert_id')} escalated from {alert['escalated_from']})" \
                if alert.get("escalated_from") else ""
            say(f"webhook  {mark}  {doc.get('event')}  {alert.get('severity', '')}  {rule}  "
                f"{alert.get('key_id', '')}  {alert.get('description', '')}{escalated}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---------------------------------------------------------------- traffic
def event(key_id, event_type, at, rng, ip=None, export=False):
    kind, _, ips, actors = KEYS[key_id]
    data = {"ip": ip or rng.choice(ips), "actor": rng.choice(actors)}
    if export or kind == "export" and event_type == "key_accessed":
        data["export"] = True
    return {"event_type": event_type, "key_id": key_id, "occurred_at": iso(at), "data": data}


def history(rng):
    """A week of each key's normal activity, in event time, oldest first. Keys are created when their
    history starts (the detectors learn a key's first day), but for legacy-signer: 120 days old,
    never rotated, 90-day policy."""
    out = []
    for key_id, (kind, per_hour, _, _) in KEYS.items():
        created = NOW - (timedelta(days=120) if key_id == "legacy-signer" else timedelta(hours=HOURS, minutes=5))
        out.append(event(key_id, "key_created", created, rng))
        if key_id == "api-gateway-tls":
            out.append(event(key_id, "key_rotated", NOW - timedelta(days=20), rng))
        this_hour = NOW.replace(minute=0, second=0, microsecond=0)
        for h in range(HOURS, 0, -1):
            start = this_hour - timedelta(hours=h)  # whole hours: an office key's 17:xx never spills into 18:00
            if kind == "office" and (start.weekday() >= 5 or not 9 <= start.hour < 18):
                continue
            daytime = 1.3 if 8 <= start.hour < 20 else 0.7
            count = int(per_hour * daytime) + (1 if rng.random() < (per_hour * daytime) % 1 else 0)
            for _ in range(count):
                out.append(event(key_id, EVENT_TYPE[kind], start + timedelta(seconds=rng.randrange(3600)), rng))
    out.sort(key=lambda e: e["occurred_at"])
    return out


def send(node, events):
    for i in range(0, len(events), 100):
        status, doc = node.call("POST", "/api/v1/events/ingest", {"data": events[i:i + 100]})
        if status != 202:
            raise SystemExit(f"ingest refused: {status} {doc}")


def anomalies(rng):
    """(seconds after going live, what, events): each one trips a detector."""
    now = lambda: datetime.now(timezone.utc)
    new_ip = f"203.0.113.{random.randrange(2, 255)}"  # new on every run, unlike the seeded traffic
    return [
        (8, "exports cap: 4 exports of backup-key within the hour (cap 3)",
         lambda: [event("backup-key", "key_accessed", now(), rng, export=True) for _ in range(4)]),
        (16, "export of kms-data-key-2 from an IP it has never used",
         lambda: [event("kms-data-key-2", "key_accessed", now(), rng, ip=new_ip, export=True)]),
        (24, "signing spike: 160 signings on hot-wallet-eth within seconds (baseline ~14/h)",
         lambda: [event("hot-wallet-eth", "signing_operation", now(), rng) for _ in range(160)]),
    ]


def live(node, rng, seconds):
    say("live traffic: normal activity every second; anomalies at +8 s, +16 s, +24 s; "
        "legacy-signer is past its 90-day rotation policy (the scheduler flags it within a minute)")
    pending = anomalies(rng)
    start = time.time()
    sent, ticks = 0, 0
    while seconds is None or time.time() - start < seconds:
        tick = []
        for key_id in ("kms-data-key-1", "kms-data-key-1", "kms-data-key-2", "api-gateway-tls"):
            tick.append(event(key_id, "key_accessed", datetime.now(timezone.utc), rng))
        for key_id in ("hot-wallet-btc", "hot-wallet-sol"):
            # At the key's own rate, as in its history: faster "normal" signing is a spike when the
            # demo runs long or twice within the hour.
            daytime = 1.3 if 8 <= datetime.now(timezone.utc).hour < 20 else 0.7
            if rng.random() < KEYS[key_id][1] * daytime / 3600:
                tick.append(event(key_id, "signing_operation", datetime.now(timezone.utc), rng))
        while pending and time.time() - start >= pending[0][0]:
            _, what, make = pending.pop(0)
            say(f"injecting {what}")
            tick.extend(make())
        send(node, tick)
        sent, ticks = sent + len(tick), ticks + 1
        if ticks % 15 == 0:
            say(f"{sent} live events sent")
        time.sleep(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--admin-token", default=os.environ.get("KEYPULSE_ADMIN_TOKEN"))
    ap.add_argument("--seconds", type=float, default=None, help="stop after this long (default: until Ctrl-C)")
    ap.add_argument("--state", default=os.path.join("data", "demo-partners.json"))
    args = ap.parse_args()
    rng = random.Random(7)
    node = Node(args.url)
    status, _ = node.call("GET", "/health")
    if status != 200:
        raise SystemExit(f"no KeyPulse node answering at {args.url}")
    p = partner(node, args.state, args.admin_token)
    received = []
    hook = receiver(p["webhook_secret"], received)
    hook_url = f"http://127.0.0.1:{hook.server_address[1]}/keypulse"
    status, doc = node.call("PUT", "/api/v1/partners/webhook", {"url": hook_url})
    if status == 200:
        say(f"webhook receiver at {hook_url}: it prints every alert whose signature verifies")
    else:
        say(f"the node refused a loopback webhook ({doc.get('message')}); start it with "
            "KEYPULSE_WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8 to see deliveries. Continuing without.")
    say(f"open {node.url}/dashboard and paste the API key: {p['api_key']}")
    if "backfilled_at" not in p:
        events = history(rng)
        say(f"backfilling a week of history: {len(events)} events for {len(KEYS)} keys ...")
        began = time.time()
        send(node, events)
        say(f"backfilled in {time.time() - began:.1f} s")
        remember(args.state, node.url, dict(p, backfilled_at=time.time()))
    else:
        say("reusing the history backfilled earlier today (an alert repeating within the hour counts as a "
            "repeat of the open one, and sends no new webhook)")
    node.call("POST", "/api/v1/thresholds", {"name": "exports_cap", "event_type": "export", "key_id": "backup-key",
                                              "threshold": 3, "window": "1h", "warn_at_pct": 80})
    try:
        live(node, rng, args.seconds)
    except KeyboardInterrupt:
        pass
    verified = sum(1 for ok, _, _ in received if ok)
    say(f"done: {verified} verified webhook deliveries, rules: {sorted({r for ok, r, _ in received if ok})}")


if __name__ == "__main__":
    main()
