"""The chaos run's ingest requests: each carries its own Idempotency-Key and a body serialised once, so
that a retry is the same request byte for byte; one whose answer leaves its fate open (cut, 503, 409)
is retried with backoff until it is acknowledged or its time is up.
"""
import heapq, http.client, itertools, json, random, threading, time, urllib.error, urllib.request, uuid

from localcluster import OPENER

# Answers after which the request may or may not be stored: retry it with its key. None is a cut
# (no answer, connection refused or reset, timeout); 409 is its key still in flight somewhere.
RETRYABLE = (None, 503, 409)


def post(url, body, key=None, idem=None, timeout=10):
    """POSTs JSON (a document, or bytes already serialised): (status, document, replayed); status None when cut."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **({"X-API-Key": key} if key else {}),
               **({"Idempotency-Key": idem} if idem else {})}
    req = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with OPENER.open(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}"), r.headers.get("Idempotent-Replayed") == "true"
    except urllib.error.HTTPError as e:
        return e.code, None, False
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return None, None, False


class IngestRequest:
    """One ingest POST and what became of it; `anomaly` is the key whose alert it owes once acknowledged."""

    def __init__(self, events, api_key, retry_for, anomaly=None):
        self.seqs = [e["data"]["seq"] for e in events]
        self.body = json.dumps({"data": events} if len(events) > 1 else events[0]).encode()
        self.api_key, self.idem, self.anomaly = api_key, str(uuid.uuid4()), anomaly
        self.deadline, self.attempts, self.answers = time.time() + retry_for, 0, []

    def send(self, node):
        self.attempts += 1
        status, _, replayed = post(node.url + "/api/v1/events/ingest", self.body, self.api_key, self.idem)
        self.answers.append((node.index, status, replayed))
        return status, replayed

    def backoff(self):
        """0.25 s doubling up to 2 s, jittered so retries cut together do not arrive together."""
        return min(2.0, 0.25 * 2 ** (self.attempts - 1)) * random.uniform(0.5, 1.0)

    def describe(self):
        return f"{self.idem} ({len(self.seqs)} events from seq {self.seqs[0]}): " + ", ".join(
            f"node {n} {s or 'cut'}{' replayed' if r else ''}" for n, s, r in self.answers)


class Retries:
    """Retries open requests on worker threads: `attempt(request)` sends once more and says whether
    the request is settled; a request not settled by its deadline goes to `give_up(request)`."""

    def __init__(self, attempt, give_up, workers=8):
        self.attempt, self.give_up = attempt, give_up
        self.due, self.order, self.busy, self.closed = [], itertools.count(), 0, False
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self.work, daemon=True) for _ in range(workers)]
        for t in self.threads:
            t.start()

    def add(self, request):
        with self.cond:
            heapq.heappush(self.due, (time.time() + request.backoff(), next(self.order), request))
            self.cond.notify()

    def drain(self):
        """Waits until every request is settled or given up (each has a deadline), then stops the workers."""
        with self.cond:
            while self.due or self.busy:
                self.cond.wait()
            self.closed = True
            self.cond.notify_all()
        for t in self.threads:
            t.join()

    def work(self):
        while (request := self.next_due()) is not None:
            settled = self.settle(request)
            with self.cond:
                self.busy -= 1
                if not settled:
                    heapq.heappush(self.due, (time.time() + request.backoff(), next(self.order), request))
                self.cond.notify_all()

    def settle(self, request):
        if time.time() >= request.deadline:
            self.give_up(request)
            return True
        try:
            return self.attempt(request)
        except Exception as e:  # a worker that died here would leave drain() waiting for ever
            print(f"   retry of {request.idem} failed: {e!r}", flush=True)
            return False

    def next_due(self):
        with self.cond:
            while True:
                if self.closed:
                    return None
                wait = self.due[0][0] - time.time() if self.due else None
                if wait is not None and wait <= 0:
                    self.busy += 1
                    return heapq.heappop(self.due)[2]
                self.cond.wait(wait)
