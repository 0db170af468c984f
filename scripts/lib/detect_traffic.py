#!/usr/bin/env python3
"""Labelled synthetic key traffic for scripts/bench detect.

Nine days of event time for a few hundred keys (diurnal signing, office-hours keys, quiet keys,
accesses, exports, rotations, a trickle of new keys), compressed through occurred_at, with
anomalies of every detector injected at known keys and times over the last day and a half. The
traffic goes through the partner dialect of a running node; then every alert is read back and
matched against the injections. Prints one row per detector; exits 1 if the bar is missed.

"Normal" here means what the detectors call normal: round-the-clock keys are busier by day but
every hour of the day holds over 3 % of their signings; office keys never sign at night; IPs and
actors of a key come from a small stable set.

Usage: detect_traffic.py BASE_URL [--seed N] [--keys N]
"""
import argparse, json, random, sys, threading, time, urllib.request
from collections import defaultdict
from datetime import datetime, timedelta, timezone

HOUR = 3600
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(base, method, path, body=None, key=None, raw=None):
    """JSON in and out (raw: a body already encoded; /metrics answers its text), retrying 429 and 503."""
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **({"X-API-Key": key} if key else {})})
    for attempt in range(30):
        try:
            with OPENER.open(req, timeout=60) as r:
                text = r.read()
                return text if path == "/metrics" else json.loads(text or b"{}")
        except urllib.error.HTTPError as e:
            if e.code in (429, 503):
                time.sleep(float(e.headers.get("Retry-After") or 1))
                continue
            raise SystemExit(f"{method} {path}: {e.code} {e.read()[:300]!r}")
    raise SystemExit(f"{method} {path}: gave up")


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Traffic:
    def __init__(self, now, seed, keys):
        self.rnd = random.Random(seed)
        self.now = now
        self.start = now - 9 * 24 * HOUR
        self.events = defaultdict(list)      # key_id -> [(t, event)]
        self.injections = []                 # (rule, key_id or None, t)
        self.injected_events = 0
        self.stopped = {}                    # key_id -> time after which it is silent
        self.plan(keys)

    def add(self, key, t, event_type, ip=None, actor=None, **extra):
        data = dict(extra.pop("data", {}))
        if ip:
            data["ip"] = ip
        if actor:
            data["actor"] = actor
        e = {"event_type": event_type, "key_id": key, "occurred_at": iso(t), "data": data}
        e.update(extra)
        self.events[key].append((t, e))

    def inject(self, rule, key, t, events=1):
        self.injections.append((rule, key, t))
        self.injected_events += events

    def poisson(self, lam):
        # Knuth, fine for the small rates used here.
        limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
        while True:
            p *= self.rnd.random()
            if p <= limit:
                return k
            k += 1

    def plan(self, n):
        r = self.rnd
        kinds = ["clock"] * int(n * 0.6) + ["office"] * int(n * 0.2) + ["quiet"] * (n - int(n * 0.6) - int(n * 0.2))
        self.profiles = {}
        for i, kind in enumerate(kinds):
            key = f"{kind}-key-{i:03d}"
            born = self.start + r.uniform(0, 3 * HOUR)
            self.profile(key, kind, born)
        # A trickle of new keys: the partner's provisioning baseline.
        t = self.start + 4 * HOUR
        j = 0
        while t < self.now - 2 * HOUR:
            self.profile(f"late-key-{j:03d}", "clock", t)
            j += 1
            t += r.uniform(2.5, 5.5) * HOUR
        self.injections_plan()

    def profile(self, key, kind, born):
        r = self.rnd
        ips = [f"10.{r.randint(0, 250)}.{r.randint(0, 250)}.{k}" for k in (1, 2)]
        actors = [f"svc-{key}-{k}" for k in range(r.randint(1, 2))]
        if kind == "quiet":
            actors = actors[:1]
        rate = {"clock": r.uniform(8, 24), "office": r.uniform(10, 30), "quiet": 0.2}[kind]
        self.profiles[key] = (kind, ips, actors, rate, born)
        self.add(key, born, "key_created", actor=actors[0], data={"name": key})

    def normal_traffic(self):
        for key, (kind, ips, actors, rate, born) in self.profiles.items():
            rotate_at = self.start + self.rnd.uniform(2, 7) * 24 * HOUR
            hour = int(born // HOUR) * HOUR + HOUR
            while hour < self.now:
                end = self.stopped.get(key)
                if end is not None and hour > end:
                    break
                h = datetime.fromtimestamp(hour, timezone.utc).hour
                office = 8 <= h < 18
                if kind == "office":
                    lam = rate if office else 0
                elif kind == "clock":
                    # Busier by day, never idle at night: every hour of the day holds over 3 % of signings.
                    lam = rate * (1.2 if office else 0.8)
                else:
                    lam = rate
                for _ in range(self.poisson(lam)):
                    self.add(key, hour + self.rnd.uniform(0, HOUR), "signing_operation",
                             self.rnd.choice(ips), self.rnd.choice(actors))
                for _ in range(self.poisson(1.0 if kind != "quiet" else 3.0)):
                    self.add(key, hour + self.rnd.uniform(0, HOUR), "key_accessed", self.rnd.choice(ips),
                             self.rnd.choice(actors))
                if self.rnd.random() < 0.03:
                    self.add(key, hour + self.rnd.uniform(0, HOUR), "key_accessed", self.rnd.choice(ips),
                             self.rnd.choice(actors), data={"export": True})
                if rotate_at and hour <= rotate_at < hour + HOUR:
                    self.add(key, rotate_at, "key_rotated", actor=actors[0])
                hour += HOUR

    def business_time(self, day):
        base = int((self.now - day * 24 * HOUR) // (24 * HOUR)) * 24 * HOUR
        return base + self.rnd.uniform(9, 16) * HOUR

    def injections_plan(self):
        r = self.rnd
        keys = lambda kind: [k for k, p in self.profiles.items() if p[0] == kind and p[4] < self.start + 4 * HOUR]
        clock, office, quiet = keys("clock"), keys("office"), keys("quiet")
        r.shuffle(clock)
        r.shuffle(office)
        for key in [k for k in clock if self.profiles[k][3] >= 8][:12]:
            t = self.business_time(r.choice([1, 0.5]))
            kind, ips, actors, rate, _ = self.profiles[key]
            burst = max(25, int(8 * rate * 1.2))
            for i in range(burst):
                self.add(key, t + i * 2400 / burst, "signing_operation", ips[0], actors[0])
            self.inject("signing_volume_spike", key, t + 2400, burst)
        for key in office[:8]:
            night = int((self.now - r.choice([1, 0.5]) * 24 * HOUR) // (24 * HOUR)) * 24 * HOUR + r.uniform(2, 4) * HOUR
            kind, ips, actors, _, _ = self.profiles[key]
            self.add(key, night, "signing_operation", ips[0], actors[0])
            self.inject("off_hours_signing", key, night)
        rest = clock[12:] + office[8:]
        r.shuffle(rest)
        picks = iter(rest)
        for i in range(10):
            key = next(picks)
            t = self.business_time(r.choice([1, 0.5]))
            self.add(key, t, "key_accessed", f"203.0.113.{i + 10}", self.profiles[key][2][0])
            self.inject("new_source_ip", key, t)
        for i in range(8):
            key = next(picks)
            t = self.business_time(r.choice([1, 0.5]))
            self.add(key, t, "signing_operation", self.profiles[key][1][0], f"intruder-{i}")
            self.inject("new_actor", key, t)
        for i in range(6):
            key = next(picks)
            t = self.business_time(r.choice([1, 0.5]))
            self.add(key, t, "key_deleted", actor="unknown-admin")
            self.stopped[key] = t
            self.inject("unauthorized_deletion", key, t)
        for i in range(6):
            key = next(picks)
            t = self.business_time(r.choice([1, 0.5]))
            self.add(key, t, "policy_violation", self.profiles[key][1][0], self.profiles[key][2][0],
                     data={"policy": "withdrawal_limit"})
            self.inject("policy_violation", key, t)
        for i in range(6):
            key = next(picks)
            t = self.business_time(r.choice([1, 0.5]))
            self.add(key, t, "key_accessed", self.profiles[key][1][0], self.profiles[key][2][0], severity="critical")
            self.inject("critical_event", key, t)
        for i in range(3):
            key = next(picks)
            t = self.business_time(1)
            kind, ips, actors, _, _ = self.profiles[key]
            for j in range(22):
                self.add(key, t + j * 300, "key_accessed", ips[0], actors[0], data={"export": True})
            self.inject("exports_cap", key, t + 22 * 300, 22)
        t = self.business_time(1)
        for i in range(30):
            self.add(f"burst-key-{i:02d}", t + i * 40, "key_created", actor="provisioner")
        self.inject("provisioning_spike", None, t + 1200, 30)
        for i in range(5):
            key = f"stale-key-{i}"
            self.add(key, self.now - 100 * 24 * HOUR, "key_created", actor="ops")
            for j in range(3):
                self.add(key, self.now - r.uniform(1, 20) * HOUR, "key_accessed", "10.9.9.9", "ops")
            self.inject("rotation_overdue", key, self.now - 20 * HOUR, 4)


def send(base, api_key, traffic, streams=4):
    """As a partner would in real time: all events in event-time order, a few batches in flight."""
    events = sorted((e for evs in traffic.events.values() for e in evs), key=lambda x: x[0])
    batches = [[e for _, e in events[i:i + 100]] for i in range(0, len(events), 100)]
    lock, cursor = threading.Lock(), [0]

    def run():
        while True:
            with lock:
                if cursor[0] >= len(batches):
                    return
                batch = batches[cursor[0]]
                cursor[0] += 1
            call(base, "POST", "/api/v1/events/ingest", {"data": batch}, api_key)

    threads = [threading.Thread(target=run) for _ in range(streams)]
    began = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(events), time.time() - began


def all_alerts(base, api_key):
    out, cursor = [], None
    while True:
        d = call(base, "GET", "/api/alerts?limit=500" + (f"&before_id={cursor}" if cursor else ""), key=api_key)
        out += d["alerts"]
        cursor = d.get("next_before_id")
        if not cursor:
            return out


def parse(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keys", type=int, default=160)
    args = ap.parse_args()
    base = args.base.rstrip("/")
    now = time.time()
    traffic = Traffic(now, args.seed, args.keys)
    traffic.normal_traffic()
    partner = call(base, "POST", "/api/v1/partners/register", {"name": "Detection Bench"})
    key = partner["api_key"]
    call(base, "POST", "/api/v1/thresholds", {"name": "exports_cap", "event_type": "export", "threshold": 20,
                                             "window": "24h", "warn_at_pct": 80}, key)
    total, seconds = send(base, key, traffic)
    print(f"sent {total} events ({traffic.injected_events} injected) in {seconds:.1f} s "
          f"({total / seconds:.0f} events/s through HTTP, detection included)", flush=True)
    last, stable = -1, 0
    while stable < 4:
        time.sleep(1.5)
        n = len(all_alerts(base, key))
        stable = stable + 1 if n == last else 0
        last = n
    alerts = all_alerts(base, key)

    rules = ["signing_volume_spike", "off_hours_signing", "new_source_ip", "new_actor", "unauthorized_deletion",
             "provisioning_spike", "policy_violation", "critical_event", "rotation_overdue", "exports_cap"]
    matched = set()
    rows = []
    for rule in rules:
        injected = [(k, t) for r, k, t in traffic.injections if r == rule]
        detected = 0
        for k, t in injected:
            hits = [a for a in alerts if a["rule"] == rule and (k is None or a["key_id"] == k)
                    and t - 2 * HOUR <= parse(a["triggered_at"]) <= t + 2 * HOUR]
            if rule == "rotation_overdue":
                hits = [a for a in alerts if a["rule"] == rule and a["key_id"] == k]
            if hits:
                detected += 1
                matched.update(a["id"] for a in hits)
        false = [a for a in alerts if a["rule"] == rule and a["id"] not in matched]
        rows.append((rule, len(injected), detected, len(false)))
    normal = total - traffic.injected_events
    print(f"{'detector':<24}{'injected':>9}{'detected':>9}{'missed':>8}{'false':>7}{'precision':>11}{'recall':>8}")
    for rule, injected, detected, false in rows:
        precision = detected / (detected + false) if detected + false else 1.0
        recall = detected / injected if injected else 1.0
        print(f"{rule:<24}{injected:>9}{detected:>9}{injected - detected:>8}{false:>7}{precision:>11.2f}{recall:>8.2f}")
    inj = sum(r[1] for r in rows)
    det = sum(r[2] for r in rows)
    false_total = sum(r[3] for r in rows)
    other = [a for a in alerts if a["rule"] not in rules]
    false_total += len(other)
    recall = det / inj
    per10k = false_total / normal * 10000
    print(f"{'all':<24}{inj:>9}{det:>9}{inj - det:>8}{false_total:>7}{det / (det + false_total):>11.2f}{recall:>8.2f}")
    print(f"normal events {normal}; false alerts per 10,000 normal events: {per10k:.2f}")
    print(f"bar: recall >= 0.95 ({'met' if recall >= 0.95 else 'MISSED'}), "
          f"<= 1 false alert per 10,000 normal events ({'met' if per10k <= 1 else 'MISSED'})")
    for a in [a for a in alerts if a["id"] not in matched][:10]:
        print(f"  false: {a['rule']} {a['key_id']} {a['triggered_at']} {a['description']}")
    sys.exit(0 if recall >= 0.95 and per10k <= 1 else 1)


if __name__ == "__main__":
    main()
