"""The chaos run's traffic for one scenario: load, anomalies and a probe over every node that should
be serving; every request with its own Idempotency-Key, retried when its answer leaves it open."""
import random, threading, time
from collections import Counter

from chaos_requests import RETRYABLE, IngestRequest, Retries


class Traffic:
    """Load, anomalies and probes for one scenario; nodes in `paused` get none of it. Every request
    carries its own Idempotency-Key; one whose answer leaves its fate open is retried (Retries)."""

    def __init__(self, cluster, partners, tag, retry_for):
        self.cluster, self.partners, self.tag, self.retry_for = cluster, partners, tag, retry_for
        self.paused, self.acked, self.expected = set(), set(), set()
        self.codes, self.lock, self.stopping = Counter(), threading.Lock(), threading.Event()
        self.failing_since, self.worst_outage, self.seq = {}, 0.0, 0
        self.requests, self.retried, self.cut, self.replayed, self.unacked = 0, 0, 0, [], []
        self.retries = Retries(self.retry, self.never_acked)

    def serving(self):
        return [n for n in self.cluster.nodes if n.alive() and n.index not in self.paused]

    def next_seqs(self, n):
        with self.lock:
            self.seq += n
            return [f"{self.tag}-{i}" for i in range(self.seq - n, self.seq)]

    def send(self, node, events, key, anomaly=None):
        """The first attempt of a new request; its status. An open answer hands it to the retries."""
        request = IngestRequest(events, key, self.retry_for, anomaly)
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
            if replayed:
                self.replayed.append(request)
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
