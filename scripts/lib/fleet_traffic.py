#!/usr/bin/env python3
"""A realistic key fleet for scripts/bench detect: what a partner's keys really look like.

detect_traffic.py's traffic is friendly: every round-the-clock key is busy in every hour, every
office key keeps UTC office hours. This one sends a fleet whose normal behaviour is the hard part:

  office      sign Mon-Fri only, inside a 4-9 h window of their own local time zone (UTC-8 ... UTC+9,
              weekends are local weekends), 10-40/h with Poisson noise, each day's window edges
              moved by up to +-20 min
  batch       a few hundred signings within ~10 min at the same local time every night (+- 4 min),
              nothing else but rare accesses
  growing     round the clock, 15 % more every day
  diurnal     round the clock, 5-40/h on average, sinusoidal with peak/trough 3:1
  pod         round the clock; every ~3 h the pod restarts and signs from a new address in the
              key's own 10.8.<k>.0/24, same actor
  low-rate    0.1-0.5 signings/h at any hour;  access-only: accesses, never a signing
  new         a trickle of keys created during the period (key_created), then low-rate or accesses
  onboarded   an existing fleet joining partway through: key_created dated 30-40 days back and
              key_rotated 20 days back, sent when they join, then ~30 signings in the first hour
Every key uses 1-3 stable IPs and 1-2 stable actors (all of them within its first events); accesses,
exports (key_exported, and key_accessed with data.export=true) and rotations come from them.

Over the last ~2 days, anomalies of every detector are injected at varied local times (labelled);
near-misses that must raise no alert are injected too and counted apart. Event time is compressed
through occurred_at and everything goes through the partner dialect's batch ingest; then every
alert is read back and matched: same rule, same key (partner-level for provisioning_spike),
triggered within +-2 h of the injection (rotation_overdue: any time). An alert that matches no
injection is false; a false alert on a near-miss key within +-2 h of the near-miss is a near-miss
alert. Bars: recall >= 0.98, <= 1 false alert per 100,000 normal events, 0 near-miss alerts;
exits 1 when one is missed.

Time. The period ends at the last whole hour before now. Its phase in the week is set by
--shift-hours (default: drawn from the seed): the period ends at hour H of the real UTC week (0 =
Monday 00:00), the latest such hour before now; key time zones are offsets from UTC, so a key's
weekend is a real weekend. So a seed gives the same traffic whatever hour the benchmark starts
(only moved by whole weeks), and the output names the seed and shift that reproduce it.

Usage: fleet_traffic.py BASE_URL [--seed N] [--keys N] [--days N] [--shift-hours H]
       fleet_traffic.py --dry-run [...]   (generate and check the traffic, print its shape, send nothing)
"""
import argparse, bisect, json, math, random, re, sys, threading, time, urllib.error, urllib.request
from collections import Counter, defaultdict

MIN, HOUR, DAY = 60, 3600, 86400
# The HTTP helpers are the first generator's (same folder, so importable when run as a script).
from detect_traffic import all_alerts, call, parse  # noqa: E402
ZONES = [("UTC-8", -8), ("UTC-5", -5), ("UTC", 0), ("UTC+1", 1), ("UTC+5:30", 5.5), ("UTC+8", 8), ("UTC+9", 9)]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
AUTO = ""            # ip/actor placeholder: one of the key's own, filled in when the key is finished
THRESHOLD = "exports_cap"
RULES = ["signing_volume_spike", "off_hours_signing", "new_source_ip", "new_actor", "unauthorized_deletion",
         "provisioning_spike", "policy_violation", "critical_event", "rotation_overdue", THRESHOLD]
# Share of the fleet per kind (the rest is diurnal).
MIX = [("office", 0.25), ("batch", 0.067), ("growing", 0.05), ("pod", 0.067), ("lowrate", 0.067),
       ("access", 0.05), ("new", 0.10), ("onboarded", 0.034)]


def iso(t):
    g = time.gmtime(t)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (g[0], g[1], g[2], g[3], g[4], g[5], int(round((t % 1) * 1000)) % 1000)


class Key:
    def __init__(self, kid, kind, zone, ips, actors, begin):
        self.id, self.kind, self.zone, self.off = kid, kind, zone[0], zone[1] * HOUR
        self.ips, self.actors, self.begin = ips, actors, begin
        self.events = []      # [t, send_t, event_type, ip, actor, data, tag]; tag None = normal
        self.windows, self.batches, self.segments = [], [], []
        self.p = {}           # the kind's parameters
        self.used = False     # carries an injection or a near-miss already
        self.deleted_at = None


class Fleet:
    def __init__(self, end, seed, n_keys, days, shift):
        self.rnd = random.Random(seed)
        drawn = self.rnd.randrange(168)        # always drawn, so --shift-hours changes nothing else
        self.shift = drawn if shift is None else shift % 168
        # Local calendars are the real one (a key's weekend is its zone's real Saturday and Sunday);
        # the period ends at hour `shift` of the real week, up to a week before now.
        real_how = (int(end // HOUR) + 72) % 168   # 1970-01-01 was a Thursday: hour 72 of its week
        self.back = ((real_how - self.shift) % 168) * HOUR
        end = int(end // HOUR) * HOUR - self.back
        self.end, self.days, self.start = end, days, end - days * DAY
        self.delta = 0
        self.keys = []
        self.injections = []  # [rule, key_id or None, t, events, note]
        self.near = []        # [kind, key_id, t, events, note]
        self.recent = (end - 2 * DAY, end - 30 * MIN)
        self.new_ips = iter([f"203.0.113.{i}" for i in range(10, 250)] + [f"198.51.100.{i}" for i in range(10, 250)])
        self.plan(n_keys)

    # --- calendar -------------------------------------------------------------------------------
    def local(self, k, t):
        return t + self.delta + k.off

    def weekday(self, k, t):
        return (int(self.local(k, t) // DAY) + 3) % 7

    def hour_of_day(self, k, t):
        return (self.local(k, t) % DAY) / HOUR

    def local_day(self, k, t):
        return int(self.local(k, t) // DAY)

    def at(self, k, day, hour):
        """Real time of local day `day` (days since the epoch, local), hour `hour` (float)."""
        return day * DAY + hour * HOUR - self.delta - k.off

    def local_days(self, k, lo, hi):
        return range(self.local_day(k, lo) - 1, self.local_day(k, hi) + 2)

    def describe_end(self):
        how = self.shift
        return f"{DAYS[how // 24]} {how % 24:02d}:00"

    # --- randomness -----------------------------------------------------------------------------
    def poisson(self, lam):
        if lam <= 0:
            return 0
        if lam > 40:
            return max(0, int(round(self.rnd.gauss(lam, math.sqrt(lam)))))
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rnd.random()
            if p <= limit:
                return k
            k += 1

    def ev(self, k, t, etype, ip=AUTO, actor=AUTO, data=None, tag=None, send=None):
        k.events.append([t, t if send is None else send, etype, ip, actor, data, tag])

    def uniform_events(self, k, lo, hi, rate_per_h, etype, **kw):
        for _ in range(self.poisson(rate_per_h * (hi - lo) / HOUR)):
            self.ev(k, self.rnd.uniform(lo, hi), etype, **kw)

    def hourly(self, k, lo, hi, rate_fn, etype, **kw):
        """Poisson per whole hour at the rate of its middle, uniform inside the hour."""
        h = int(lo // HOUR) * HOUR
        while h < hi:
            a, b = max(h, lo), min(h + HOUR, hi)
            if b > a:
                for _ in range(self.poisson(rate_fn(h + HOUR / 2) * (b - a) / HOUR)):
                    self.ev(k, self.rnd.uniform(a, b), etype, **kw)
            h += HOUR

    # --- the fleet ------------------------------------------------------------------------------
    def plan(self, n):
        r = self.rnd
        counts = {kind: int(round(n * share)) for kind, share in MIX}
        counts["diurnal"] = max(0, n - sum(counts.values()))
        self.n_new = max(1, counts["new"])
        order = ["office", "batch", "growing", "diurnal", "pod", "lowrate", "access", "new", "onboarded"]
        for kind in order:
            for i in range(counts[kind]):
                self.make(kind, f"{kind}-{i:03d}", i)
        for k in self.keys:
            self.finish(k)
            k.used = k.kind == "onboarded"      # their onboarding is a near-miss
        self.inject()
        self.near_misses()
        for k in self.keys:
            k.events.sort(key=lambda e: e[0])

    def identity(self, kid):
        r = self.rnd
        nets = [f"10.{r.randint(16, 250)}.{r.randint(0, 250)}", f"172.{r.randint(16, 31)}.{r.randint(0, 250)}",
                f"192.168.{r.randint(0, 250)}"]
        r.shuffle(nets)
        ips = [f"{net}.{r.randint(2, 250)}" for net in nets[:r.choice([1, 2, 2, 3])]]
        actors = [f"svc-{kid}-{a}" for a in ("app", "ops")[:r.choice([1, 2])]]
        return ips, actors

    def make(self, kind, kid, index):
        r = self.rnd
        zone = r.choice(ZONES)
        ips, actors = self.identity(kid)
        start, end = self.start, self.end
        k = Key(kid, kind, zone, ips, actors, start)
        self.keys.append(k)
        p = k.p
        if kind == "office":
            p["rate"] = r.uniform(10, 40)
            p["open"] = r.choice([7, 7.5, 8, 8.5, 9, 9.5, 10, 10.5])
            p["len"] = r.uniform(4, 9)
            p["access"] = r.uniform(0.5, 2)
            for day in self.local_days(k, start, end):
                s0 = self.at(k, day, p["open"])
                if (day + 3) % 7 >= 5:
                    continue
                s = s0 + r.uniform(-20, 20) * MIN
                e = s0 + p["len"] * HOUR + r.uniform(-20, 20) * MIN
                s, e = max(s, start), min(e, end)
                if e - s < 30 * MIN:
                    continue
                k.windows.append((s, e))
                self.uniform_events(k, s, e, p["rate"], "signing_operation")
                self.uniform_events(k, s, e, p["access"], "key_accessed")
                if r.random() < 0.12:
                    self.export(k, r.uniform(s, e))
        elif kind == "batch":
            p["at"] = r.uniform(0, 4.5)               # local night
            p["n"] = r.randint(200, 500)
            for day in self.local_days(k, start, end):
                t0 = self.at(k, day, p["at"]) + r.uniform(-4, 4) * MIN
                dur = r.uniform(8, 12) * MIN
                if t0 < start or t0 + dur > end:
                    continue
                k.batches.append((t0, t0 + dur))
                for _ in range(int(round(p["n"] * r.uniform(0.9, 1.1)))):
                    self.ev(k, r.uniform(t0, t0 + dur), "signing_operation")
            self.uniform_events(k, start, end, r.uniform(0.03, 0.08), "key_accessed")
        elif kind == "growing":
            p["r0"] = r.uniform(5, 14)
            self.hourly(k, start, end, lambda t: p["r0"] * 1.15 ** ((t - start) / DAY), "signing_operation")
            self.hourly(k, start, end, lambda t: 0.8, "key_accessed")
            self.exports_daily(k, start, end, 0.15)
        elif kind in ("diurnal", "onboarded", "pod"):
            if kind == "diurnal":
                p["mean"], p["amp"] = math.exp(r.uniform(math.log(5), math.log(40))), 0.5  # peak/trough 3
            elif kind == "pod":
                p["mean"], p["amp"] = r.uniform(10, 30), 0.2         # 1.5
            else:
                p["mean"], p["amp"] = r.uniform(27, 33), 0.0
                k.ips, k.actors = k.ips[:1], k.actors[:1]
                k.begin = r.uniform(start + 0.35 * self.days * DAY, start + 0.6 * self.days * DAY)
                self.ev(k, k.begin - r.uniform(30, 40) * DAY, "key_created", None, AUTO, {"name": kid}, send=k.begin)
                self.ev(k, k.begin - r.uniform(19.5, 20.5) * DAY, "key_rotated", None, AUTO, send=k.begin + 0.5)
            p["peak"] = r.uniform(10, 16)
            first = k.begin + 1
            rate = lambda t: p["mean"] * (1 + p["amp"] * math.cos(2 * math.pi * (self.hour_of_day(k, t) - p["peak"]) / 24))
            if kind == "pod":
                k.ips = []
                p["net"] = f"10.8.{index}"
                hosts = r.sample(range(2, 255), 200)
                t0 = first
                while t0 < end:
                    ip = f"{p['net']}.{hosts.pop()}"
                    k.segments.append((t0, min(end, t0 + r.uniform(2.5, 3.5) * HOUR), ip))
                    t0 = k.segments[-1][1]
                starts = [s[0] for s in k.segments]
                for s, e, ip in k.segments:            # a pod's first act is a signing
                    self.ev(k, s + r.uniform(0, 60), "signing_operation", ip)
                for etype, fn in (("signing_operation", rate), ("key_accessed", lambda t: 0.8)):
                    before = len(k.events)
                    self.hourly(k, first, end, fn, etype)
                    for e in k.events[before:]:
                        seg = k.segments[bisect.bisect_right(starts, e[0]) - 1]
                        e[3] = seg[2]
                        if etype != "signing_operation" and e[0] < seg[0] + 3 * MIN:
                            e[0] += 3 * MIN
                for day in range(int(self.days)):
                    if r.random() < 0.15:
                        t = r.uniform(start + day * DAY, start + (day + 1) * DAY)
                        seg = k.segments[bisect.bisect_right(starts, t) - 1]
                        self.export(k, max(t, seg[0] + 3 * MIN), seg[2])
            elif kind == "onboarded":          # ~30 in the first hour, from its one address and actor
                for _ in range(r.randint(28, 32)):
                    self.ev(k, r.uniform(first, first + HOUR), "signing_operation")
                self.hourly(k, first + HOUR, end, rate, "signing_operation")
                self.hourly(k, first, end, lambda t: 0.7, "key_accessed")
                self.exports_daily(k, first + DAY, end, 0.15)
            else:
                self.hourly(k, first, end, rate, "signing_operation")
                self.hourly(k, first, end, lambda t: 0.7, "key_accessed")
                self.exports_daily(k, first, end, 0.15)
        elif kind == "lowrate":
            p["rate"] = r.uniform(0.1, 0.5)
            self.uniform_events(k, start, end, p["rate"], "signing_operation")
            self.uniform_events(k, start, end, r.uniform(0.1, 0.3), "key_accessed")
            self.exports_daily(k, start, end, 0.05)
        elif kind == "access":
            self.uniform_events(k, start, end, r.uniform(0.3, 2.0), "key_accessed")
            self.exports_daily(k, start, end, 0.15)
        elif kind == "new":
            slots = self.n_new     # spread over the period
            k.begin = start + (index + r.uniform(0.1, 0.9)) * (self.days * DAY - 6 * HOUR) / slots
            self.ev(k, k.begin, "key_created", None, AUTO, {"name": kid})
            first = k.begin + r.uniform(5, 60) * MIN
            if r.random() < 0.5:
                self.uniform_events(k, first, end, r.uniform(0.2, 1.0), "signing_operation")
            self.uniform_events(k, first, end, r.uniform(0.2, 1.0), "key_accessed")
        if r.random() < 0.3 and kind not in ("onboarded",):
            t = self.active_time(k, max(k.begin + DAY, start + DAY), end - HOUR)
            if t is not None:
                self.ev(k, t, "key_rotated", AUTO if kind != "pod" else None, AUTO)

    def export(self, k, t, ip=AUTO, actor=AUTO):
        if self.rnd.random() < 0.5:
            self.ev(k, t, "key_exported", ip, actor)
        else:
            self.ev(k, t, "key_accessed", ip, actor, {"export": True})

    def exports_daily(self, k, lo, hi, p):
        t = lo
        while t < hi:
            if self.rnd.random() < p:
                self.export(k, self.rnd.uniform(t, min(hi, t + DAY)))
            t += DAY

    def finish(self, k):
        """Fills in the key's own IPs and actors: each of them within its first events, then at random."""
        k.events.sort(key=lambda e: e[0])
        n_ip = n_actor = 0
        for e in k.events:
            if e[3] == AUTO:
                e[3] = k.ips[n_ip] if n_ip < len(k.ips) else self.rnd.choice(k.ips)
                n_ip += 1
            if e[4] == AUTO:
                e[4] = k.actors[n_actor] if n_actor < len(k.actors) else self.rnd.choice(k.actors)
                n_actor += 1

    def known(self, k, t):
        """An IP and actor the key normally uses at time t."""
        if k.kind == "pod":
            starts = [s[0] for s in k.segments]
            return k.segments[max(0, bisect.bisect_right(starts, t) - 1)][2], k.actors[0]
        return self.rnd.choice(k.ips), self.rnd.choice(k.actors)

    def active_time(self, k, lo, hi, margin=10 * MIN):
        """A time in [lo, hi] at which the key normally signs (or, for keys that never sign, is used)."""
        r = self.rnd
        if k.kind == "office":
            spans = [(max(s + margin, lo), min(e - margin, hi)) for s, e in k.windows]
        elif k.kind == "batch":
            spans = [(max(s + 60, lo), min(e - 60, hi)) for s, e in k.batches]
        else:
            spans = [(max(lo, k.begin + (DAY if k.kind in ("new", "onboarded") else 0)), hi)]
        spans = [(a, b) for a, b in spans if b > a]
        if not spans:
            return None
        a, b = r.choice(spans)
        return r.uniform(a, b)

    def history(self, k, t):
        return sum(1 for e in k.events if e[0] < t)

    # --- anomalies ------------------------------------------------------------------------------
    def pick(self, kinds, place, min_history=40):
        """A key of one of these kinds, not used yet, with history, and where `place` finds room."""
        pool = [k for k in self.keys if k.kind in kinds and not k.used]
        self.rnd.shuffle(pool)
        for k in pool:
            if self.history(k, self.recent[0]) < min_history:
                continue
            where = place(k)
            if where is not None:
                k.used = True
                return k, where
        return None, None

    def label(self, rule, k, t, events, note=""):
        self.injections.append([rule, k.id if k else None, t, events, note])

    def recent_days(self, k, back=2.0):
        return self.local_days(k, self.end - back * DAY, self.end)

    def choose(self, times, lo, hi):
        times = [t for t in times if lo < t < hi]
        return self.rnd.choice(times) if times else None

    def burst(self, k, t, n, tag, spacing=(1, 3)):
        ip, actor = self.known(k, t)
        for i in range(n):
            self.ev(k, t + i * self.rnd.uniform(*spacing) * MIN, "signing_operation", ip, actor, tag=tag)

    def inject(self):
        r = self.rnd
        lo, hi = self.recent
        # signing_volume_spike: 9-14x the key's usual rate at that hour, in quiet hours of
        # round-the-clock keys and inside office windows.
        for kinds, n in ((("diurnal",), 5), (("pod",), 1), (("office",), 4)):
            for _ in range(n):
                length = r.uniform(40, 55) * MIN

                def place(k):
                    if k.kind == "office":          # the last 2 days may be a weekend: look back 3.5
                        spans = [(s + 20 * MIN, e - length - 10 * MIN) for s, e in k.windows if s > self.end - 3.5 * DAY]
                        spans = [(a, b) for a, b in spans if a < b < hi]
                        return r.uniform(*r.choice(spans)) if spans else None
                    if k.p["mean"] * (1 - k.p["amp"]) < 4:
                        return None                 # 9x its quiet hour would stay under 20 an hour
                    trough = (k.p["peak"] + 12) % 24
                    t = self.choose([self.at(k, d, trough + r.uniform(-2, 2)) for d in self.recent_days(k)],
                                    lo + HOUR, hi - HOUR)
                    return None if t is None else t - length / 2
                k, t0 = self.pick(kinds, place)
                if k is None:
                    continue
                m = r.uniform(9, 14)
                if k.kind == "office":
                    usual, where = k.p["rate"], "in its office window"
                else:
                    h = self.hour_of_day(k, t0 + length / 2) - k.p["peak"]
                    usual = k.p["mean"] * (1 + k.p["amp"] * math.cos(2 * math.pi * h / 24))
                    where = "in its quiet hours"
                extra = int(round((m - 1) * usual))
                ip, actor = self.known(k, t0)
                for i in range(extra):
                    self.ev(k, t0 + (i + r.random()) * length / extra, "signing_operation", ip, actor, tag="inj")
                self.label("signing_volume_spike", k, t0 + length, extra,
                           f"{m:.1f}x the usual {usual:.1f}/h {where}, local {self.hour_of_day(k, t0):04.1f}h, "
                           f"{length / MIN:.0f} min")
        # off_hours_signing: office keys in the middle of their local night, batch keys far from their batch.
        for _ in range(5):
            k, t = self.pick(("office",), lambda k: self.choose(
                [self.at(k, d, r.uniform(1.5, 4.5)) for d in self.recent_days(k)], lo, hi))
            if k is None:
                continue
            n = r.randint(1, 4)
            self.burst(k, t, n, "inj")
            self.label("off_hours_signing", k, t, n, f"local {DAYS[self.weekday(k, t)]} {self.hour_of_day(k, t):04.1f}h")
        for _ in range(3):
            k, t = self.pick(("batch",), lambda k: self.choose([s + r.uniform(8, 14) * HOUR for s, _ in k.batches], lo, hi))
            if k is None:
                continue
            n = r.randint(2, 5)
            self.burst(k, t, n, "inj")
            self.label("off_hours_signing", k, t, n, f"batch key, local {self.hour_of_day(k, t):04.1f}h "
                                                     f"(batch at {k.p['at']:04.1f}h)")
        active = lambda k: self.active_time(k, lo, hi)
        # new_source_ip: access, signing and export from an address outside every network the key uses.
        signing = ("office", "diurnal", "growing", "batch", "lowrate")
        plan = [("key_accessed", ("diurnal", "office", "access", "growing", "lowrate", "new"))] * 4 \
            + [("signing_operation", ("pod",))] + [("signing_operation", signing)] * 3 \
            + [("key_exported", ("diurnal", "office", "access", "growing", "batch"))] * 4
        for etype, kinds in plan:
            k, t = self.pick(kinds, active)
            if k is None:
                continue
            ip = next(self.new_ips)
            self.ev(k, t, etype, ip, self.known(k, t)[1], tag="inj")
            self.label("new_source_ip", k, t, 1, f"{etype} from {ip}")
        # new_actor: a known address, an actor never seen on the key.
        for i, etype in enumerate(["signing_operation"] * 4 + ["key_accessed"] * 2):
            k, t = self.pick(signing if etype == "signing_operation" else signing + ("access", "pod"), active)
            if k is None:
                continue
            self.ev(k, t, etype, self.known(k, t)[0], f"contractor-{i}", tag="inj")
            self.label("new_actor", k, t, 1, f"{etype} by contractor-{i}")
        # unauthorized_deletion: deleted by an actor the key never saw; the key is silent afterwards.
        for i in range(4):
            k, t = self.pick(("diurnal", "office", "growing", "access", "lowrate"), active)
            if k is None:
                continue
            k.events = [e for e in k.events if e[0] < t]
            k.deleted_at = t
            self.ev(k, t, "key_deleted", self.known(k, t)[0], f"unknown-admin-{i}", tag="inj")
            self.label("unauthorized_deletion", k, t, 1, f"by unknown-admin-{i}")
        for i in range(4):
            k, t = self.pick(signing + ("access", "pod"), active)
            if k is None:
                continue
            ip, actor = self.known(k, t)
            self.ev(k, t, "policy_violation", ip, actor, {"policy": "withdrawal_limit"}, tag="inj")
            self.label("policy_violation", k, t, 1)
        for i in range(4):
            k, t = self.pick(signing + ("access",), active)
            if k is None:
                continue
            ip, actor = self.known(k, t)
            etype = "signing_operation" if i % 2 and k.kind != "access" else "key_accessed"
            self.ev(k, t, etype, ip, actor, {"_severity": "critical"}, tag="inj")
            self.label("critical_event", k, t, 1, f"{etype} sent as critical")
        # Partner threshold: more than 20 exports in 24 h by known actors from known addresses.
        for i in range(3):
            k, t0 = self.pick(("diurnal", "growing", "access"), lambda k: self.active_time(k, lo, hi - 2 * HOUR))
            if k is None:
                continue
            n, span = r.randint(22, 26), r.uniform(60, 90) * MIN
            times = sorted(t0 + r.uniform(0, span) for _ in range(n))
            for t in times:
                ip, actor = self.known(k, t)
                self.export(k, t, ip, actor)
                k.events[-1][6] = "inj"
            self.label(THRESHOLD, k, times[19], n, f"{n} exports in {span / MIN:.0f} min")
        # provisioning_spike: many key_created within minutes, twice, half a day apart at least.
        prev = None
        for b in range(2):
            for _ in range(50):
                t0 = r.uniform(lo + HOUR, hi - HOUR)
                if prev is None or abs(t0 - prev) > 12 * HOUR:
                    break
            prev, n, span = t0, r.randint(25, 40), r.uniform(5, 15) * MIN
            for i in range(n):
                k = Key(f"burst{b}-{i:02d}", "burst", ZONES[2], [], ["provisioner"], t0)
                k.used = True
                self.keys.append(k)
                self.ev(k, t0 + i * span / n, "key_created", None, "provisioner", {"name": k.id}, tag="inj")
            self.label("provisioning_spike", None, t0 + span, n, f"{n} keys created in {span / MIN:.0f} min")
        # rotation_overdue: keys created 100 days ago, never rotated, joining now.
        for i in range(4):
            t0 = r.uniform(lo, hi - 6 * HOUR)
            k = Key(f"stale-{i}", "stale", ZONES[2], [f"10.9.{i}.9"], ["ops"], t0)
            k.used = True
            self.keys.append(k)
            self.ev(k, t0 - 100 * DAY, "key_created", None, "ops", {"name": k.id}, tag="inj", send=t0)
            for j in range(3):
                self.ev(k, t0 + r.uniform(0.1, 5) * HOUR, "key_accessed", k.ips[0], "ops", tag="inj")
            self.label("rotation_overdue", k, t0, 4, "created 100 days ago, never rotated")

    def near_misses(self):
        r = self.rnd
        lo, hi = self.recent
        for _ in range(3):       # 2.5x at a diurnal key's peak hour
            k, t = self.pick(("diurnal",), lambda k: self.choose(
                [self.at(k, d, k.p["peak"]) for d in self.recent_days(k)], lo + HOUR, hi - HOUR))
            if k is None:
                continue
            t0 = t - 30 * MIN
            peak = k.p["mean"] * (1 + k.p["amp"])
            extra = int(round(1.5 * peak))
            ip, actor = self.known(k, t0)
            for i in range(extra):
                self.ev(k, t0 + r.uniform(0, HOUR), "signing_operation", ip, actor, tag="near")
            self.near.append(["peak_bump", k.id, t0 + HOUR, extra, f"2.5x at the peak ({peak:.0f}/h usual)"])
        for _ in range(3):       # 30 min after an office key's usual window ends, on a weekday
            def after(k):
                close = k.p["open"] + k.p["len"]
                return self.choose([self.at(k, d, close) + r.uniform(27, 33) * MIN
                                    for d in self.recent_days(k, 3.5) if (d + 3) % 7 < 5], self.end - 3.5 * DAY, hi)
            k, t = self.pick(("office",), after)
            if k is None:
                continue
            n = r.randint(1, 3)
            self.burst(k, t, n, "near")
            self.near.append(["after_window", k.id, t, n, f"local {self.hour_of_day(k, t):05.2f}h, window closes "
                                                         f"{k.p['open'] + k.p['len']:05.2f}h +-20 min"])
        for _ in range(3):       # a known actor exporting from a known address
            k, t = self.pick(("diurnal", "office", "growing", "access", "lowrate"), lambda k: self.active_time(k, lo, hi))
            if k is None:
                continue
            self.ev(k, t, "key_exported", k.ips[0], k.actors[0], tag="near")
            self.near.append(["known_export", k.id, t, 1, f"key_exported by {k.actors[0]} from {k.ips[0]}"])
        for _ in range(2):       # a batch at its usual hour
            k, b = self.pick(("batch",), lambda k: self.choose([s for s, _ in k.batches], lo, hi))
            if k is None:
                continue
            s, e = next(x for x in k.batches if x[0] == b)
            n = sum(1 for ev in k.events if s <= ev[0] <= e and ev[2] == "signing_operation")
            self.near.append(["batch_usual", k.id, (s + e) / 2, n, f"{n} signings at local {self.hour_of_day(k, s):04.1f}h"])
        for k in [k for k in self.keys if k.kind == "onboarded"]:
            n = sum(1 for ev in k.events if k.begin <= ev[0] < k.begin + HOUR and ev[2] == "signing_operation")
            self.near.append(["onboarding", k.id, k.begin + 30 * MIN, n + 2,
                              f"created/rotated dated back, {n} signings in the first hour"])
        for _ in range(2):       # a pod restart: new address inside the key's own /24
            k, s = self.pick(("pod",), lambda k: self.choose([g[0] for g in k.segments], lo, hi))
            if k is None:
                continue
            ip = next(g[2] for g in k.segments if g[0] == s)
            self.near.append(["pod_new_ip", k.id, s, 1, f"new pod address {ip} in {k.p['net']}.0/24"])

    # --- self-check -----------------------------------------------------------------------------
    def check(self):
        """Normal traffic must be normal: own addresses and actors only, each one seen early, few exports."""
        problems = []
        for k in self.keys:
            if k.kind in ("burst", "stale"):
                continue
            seen_ip, seen_actor, n, exports = set(), set(), 0, []
            for t, _, etype, ip, actor, data, tag in k.events:
                if tag == "inj":
                    continue
                if ip:
                    pod_ok = k.kind == "pod" and ip.startswith(k.p["net"] + ".") and (
                        ip in seen_ip or etype == "signing_operation")
                    if k.kind != "pod" and ip not in k.ips or k.kind == "pod" and not pod_ok:
                        problems.append(f"{k.id}: {etype} from {ip} at {iso(t)}")
                    if k.kind != "pod" and ip not in seen_ip and n >= 20:
                        problems.append(f"{k.id}: first use of its own {ip} after {n} events")
                    seen_ip.add(ip)
                if actor:
                    if actor not in k.actors:
                        problems.append(f"{k.id}: {etype} by {actor}")
                    if actor not in seen_actor and n >= 20:
                        problems.append(f"{k.id}: first use of its own actor {actor} after {n} events")
                    seen_actor.add(actor)
                if etype == "key_exported" or (data or {}).get("export"):
                    exports.append(t)
                    while exports[0] < t - DAY:
                        exports.pop(0)
                    if len(exports) >= 10:
                        problems.append(f"{k.id}: {len(exports)} normal exports in 24 h")
                if k.kind == "office" and etype == "signing_operation" and tag is None:
                    if not any(s <= t <= e for s, e in k.windows):
                        problems.append(f"{k.id}: signing outside its windows at {iso(t)}")
                if k.deleted_at is not None and t > k.deleted_at:
                    problems.append(f"{k.id}: event after its deletion")
                n += 1
        return problems

    # --- sending --------------------------------------------------------------------------------
    def stream(self):
        """Every event in the order a partner would send it: event time, except what is dated back."""
        out = []
        for k in self.keys:
            for t, send, etype, ip, actor, data, tag in k.events:
                d = dict(data) if data else {}
                sev = d.pop("_severity", None)
                if ip:
                    d["ip"] = ip
                if actor:
                    d["actor"] = actor
                e = {"event_type": etype, "key_id": k.id, "occurred_at": iso(t), "data": d}
                if sev:
                    e["severity"] = sev
                out.append((send, tag, e))
        out.sort(key=lambda x: x[0])
        return out


def send(base, api_key, events, streams=4):
    bodies = [json.dumps({"data": [e for _, _, e in events[i:i + 100]]}).encode() for i in range(0, len(events), 100)]
    lock, cursor = threading.Lock(), [0]

    def run():
        while True:
            with lock:
                if cursor[0] >= len(bodies):
                    return
                body = bodies[cursor[0]]
                cursor[0] += 1
            call(base, "POST", "/api/v1/events/ingest", key=api_key, raw=body)

    threads = [threading.Thread(target=run) for _ in range(streams)]
    began = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.time() - began


def detected_count(base):
    try:
        text = call(base, "GET", "/metrics").decode()
    except (SystemExit, OSError):
        return None
    total = [float(m) for m in re.findall(r"^keypulse_detect_events_total(?:\{[^}]*\})?\s+([0-9.eE+]+)", text, re.M)]
    return sum(total) if total else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base", nargs="?")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--keys", type=int, default=120)
    ap.add_argument("--days", type=int, default=9)
    ap.add_argument("--shift-hours", type=int, default=None)
    ap.add_argument("--dry-run", action="store_true", help="generate and check the traffic only")
    ap.add_argument("--alerts-out", help="write every alert with its classification to this JSON file")
    args = ap.parse_args()
    if not args.dry_run and not args.base:
        ap.error("BASE_URL is required unless --dry-run")
    if args.days < 5:
        ap.error("--days must be at least 5 (history before the injections of the last 2 days)")
    end = int(time.time() // HOUR) * HOUR
    began = time.time()
    fleet = Fleet(end, args.seed, args.keys, args.days, args.shift_hours)
    for name, off in ZONES:          # every zone's local weekend must be in the period
        k = Key("probe", "probe", (name, off), [], [], 0)
        if not any((d + 3) % 7 == 5 and fleet.at(k, d, 0) >= fleet.start and fleet.at(k, d + 2, 0) <= end
                   for d in fleet.local_days(k, fleet.start, end)):
            ap.error(f"--days {args.days} with shift {fleet.shift} holds no whole weekend in {name}")
    problems = fleet.check()
    events = fleet.stream()
    kinds = Counter(k.kind for k in fleet.keys)
    by_kind = Counter()
    for k in fleet.keys:
        by_kind[k.kind] += sum(1 for e in k.events if e[6] is None)
    injected = sum(1 for _, tag, _ in events if tag == "inj")
    near_events = sum(n[3] for n in fleet.near)
    normal = len(events) - injected
    print(f"fleet traffic: seed {args.seed}, shift {fleet.shift} h: {args.days} days ending {fleet.describe_end()} UTC, "
          f"{fleet.back // HOUR} h before now; "
          f"reproduce with --seed {args.seed} --shift-hours {fleet.shift}")
    print(f"{sum(kinds[k] for k in kinds if k not in ('burst', 'stale'))} fleet keys "
          + ", ".join(f"{kind} {kinds[kind]} ({by_kind[kind]} ev)" for kind in
                      ["office", "batch", "growing", "diurnal", "pod", "lowrate", "access", "new", "onboarded"])
          + f"; {len(events)} events: {normal} normal ({near_events} of them near-misses), {injected} injected; "
            f"generated in {time.time() - began:.1f} s", flush=True)
    if problems:
        print(f"generator self-check FAILED ({len(problems)}):", *problems[:20], sep="\n  ")
        sys.exit(2)
    if args.dry_run:
        for rule, kid, t, n, note in fleet.injections:
            print(f"  inject {rule:<22} {kid or '(partner)':<14} {iso(t)} {n:>4} ev  {note}")
        for kind, kid, t, n, note in fleet.near:
            print(f"  near   {kind:<22} {kid:<14} {iso(t)} {n:>4} ev  {note}")
        return

    base = args.base.rstrip("/")
    partner = call(base, "POST", "/api/v1/partners/register", {"name": "Fleet Bench"})
    key = partner["api_key"]
    call(base, "POST", "/api/v1/thresholds", {"name": THRESHOLD, "event_type": "export", "threshold": 20,
                                             "window": "24h", "warn_at_pct": 80}, key)
    before = detected_count(base)
    seconds = send(base, key, events)
    print(f"sent {len(events)} events in {seconds:.1f} s ({len(events) / seconds:.0f} events/s through HTTP, "
          f"detection included)", flush=True)
    # Settle: the node's detectors have seen every event, then the alert count stands still.
    waited = time.time()
    while before is not None and time.time() - waited < 300:
        now = detected_count(base)
        if now is None or now >= before + len(events):
            break
        time.sleep(1)
    # rotation_overdue of a key whose events are all dated more than a day back comes from the
    # scheduler's sweep (schedule.rotation_check_seconds, 60 s): let one pass.
    while time.time() - waited < 65:
        time.sleep(1)
    last, stable = -1, 0
    while stable < 4:
        time.sleep(1.5)
        n = len(all_alerts(base, key))
        stable = stable + 1 if n == last else 0
        last = n
    print(f"alerts settled {time.time() - waited:.1f} s after sending", flush=True)
    sys.exit(report(fleet, all_alerts(base, key), normal, near_events, args))


def report(fleet, alerts, normal, near_events, args):
    for a in alerts:
        a["_t"] = parse(a["triggered_at"])
    kind_of = {k.id: k.kind for k in fleet.keys}
    matched = set()
    rows = []
    for rule in RULES:
        injected = [i for i in fleet.injections if i[0] == rule]
        detected, missed = 0, []
        for _, kid, t, _, note in injected:
            hits = [a for a in alerts if a["rule"] == rule and (kid is None or a["key_id"] == kid)
                    and (rule == "rotation_overdue" or abs(a["_t"] - t) <= 2 * HOUR)]
            if hits:
                detected += 1
                matched.update(a["id"] for a in hits)
            else:
                missed.append((kid, t, note))
        rows.append([rule, len(injected), detected, missed])
    false = [a for a in alerts if a["id"] not in matched]
    near_hits = defaultdict(list)
    for a in false:
        for i, (kind, kid, t, _, _) in enumerate(fleet.near):
            same = a["key_id"] == kid or (kind == "onboarding" and a["rule"] == "provisioning_spike")
            if same and abs(a["_t"] - t) <= 2 * HOUR:
                near_hits[i].append(a)
                a["_near"] = kind
    near_alerts = sorted({a["id"] for hits in near_hits.values() for a in hits})
    false_by_rule = Counter(a["rule"] for a in false)
    print(f"{'detector':<24}{'injected':>9}{'detected':>9}{'missed':>8}{'false':>7}{'recall':>8}")
    for rule, injected, detected, missed in rows:
        print(f"{rule:<24}{injected:>9}{detected:>9}{injected - detected:>8}{false_by_rule.pop(rule, 0):>7}"
              f"{(detected / injected if injected else 1):>8.2f}")
    for rule, n in sorted(false_by_rule.items()):
        print(f"{rule:<24}{0:>9}{0:>9}{0:>8}{n:>7}{'':>8}")
    inj = sum(r[1] for r in rows)
    det = sum(r[2] for r in rows)
    recall = det / inj if inj else 1.0
    print(f"{'all':<24}{inj:>9}{det:>9}{inj - det:>8}{len(false):>7}{recall:>8.2f}")
    for rule, _, _, missed in rows:
        for kid, t, note in missed:
            print(f"  missed: {rule} {kid or '(partner)'} {iso(t)} {note}")
    per10k, per100k = len(false) / normal * 1e4, len(false) / normal * 1e5
    print(f"normal events {normal} (near-miss events included: {near_events}); false alerts {len(false)}: "
          f"{per10k:.2f} per 10,000, {per100k:.1f} per 100,000 normal events")
    kinds = sorted({kind_of.get(a["key_id"], "?") for a in false})
    if false:
        print("false alerts by rule and key kind: " + "; ".join(
            f"{rule} " + ", ".join(f"{kind} {n}" for kind, n in sorted(Counter(
                kind_of.get(a['key_id'], '?') for a in false if a['rule'] == rule).items()))
            for rule in sorted({a["rule"] for a in false})))
    print(f"near-misses: {len(fleet.near)} ({', '.join(f'{k} {n}' for k, n in sorted(Counter(n[0] for n in fleet.near).items()))}); "
          f"{len(near_alerts)} alerts on {len(near_hits)} of them (counted in the false alerts too)")
    for i, (kind, kid, t, n, note) in enumerate(fleet.near):
        for a in near_hits.get(i, []):
            print(f"  near-miss alert: {kind} {kid} ({note}) -> {a['rule']} {a['key_id']} {a['triggered_at']} "
                  f"{a['description']}")
    bars = [(recall >= 0.98, f"recall >= 0.98 ({recall:.3f})"),
            (per100k <= 1, f"<= 1 false alert per 100,000 normal events ({per100k:.1f})"),
            (not near_alerts, f"0 near-miss alerts ({len(near_alerts)})")]
    print("bar: " + ", ".join(f"{text} {'met' if ok else 'MISSED'}" for ok, text in bars))
    # The evidence of false alerts, taking turns over rules so that every cause shows.
    groups = defaultdict(list)
    for a in sorted(false, key=lambda a: a["_t"]):
        groups[a["rule"]].append(a)
    shown, queues = [], [groups[r] for r in sorted(groups)]
    while len(shown) < 25 and any(queues):
        for q in queues:
            if q and len(shown) < 25:
                shown.append(q.pop(0))
    if shown:
        print(f"false alerts with their evidence ({len(shown)} of {len(false)}, taking turns over rules):")
    for a in shown:
        near = f" [near-miss {a['_near']}]" if a.get("_near") else ""
        print(f"  {a['rule']} {a['key_id']} ({kind_of.get(a['key_id'], '?')}){near} {a['triggered_at']} "
              f"{a['severity']}: {a['description']}")
        print(f"      evidence {json.dumps(a.get('evidence'), sort_keys=True, separators=(',', ':'))}")
    if args.alerts_out:
        with open(args.alerts_out, "w") as f:
            json.dump({"seed": args.seed, "shift_hours": fleet.shift, "injections": fleet.injections,
                       "near_misses": fleet.near,
                       "alerts": [{**{k: v for k, v in a.items() if not k.startswith("_")},
                                   "key_kind": kind_of.get(a["key_id"]), "false": a["id"] not in matched,
                                   "near_miss": a.get("_near")} for a in alerts]}, f, indent=1)
    return 0 if all(ok for ok, _ in bars) else 1


if __name__ == "__main__":
    main()
