"""The victim of scripts/abuse: a partner sending 20 requests/s of ordinary traffic from 127.0.0.2.

It runs in a process of its own so that the attackers' busy Python cannot delay its clock. Open
loop: request i is due at start + i/20 whatever became of the others, and its latency runs from
when it was due, so a node that stalls shows as latency rather than as fewer requests. Each
connection carries at most 20 requests and none is reused after 2 s idle, so the victim keeps
opening connections as a partner's fleet of clients does: a node that only serves the
connections it accepted before an attack does not pass.
"""
import asyncio, json
from collections import Counter

from abuse_net import BROKEN, Client, Target

SOURCE = "127.0.0.2"
RATE = 20
PER_CONNECTION = 20
IDLE_SECONDS = 2


def traffic(i):
    """Request i of the mix: half ingests, then recent events of a key, then the partner's stats."""
    key_id = f"victim-{i % 20}"
    if i % 10 < 5:
        event = {"key_id": key_id, "event_type": "signing_request", "severity": "nominal",
                 "source_ip": "10.1.0.7", "actor": "victim-app", "details": {"seq": i}}
        return "POST", "/api/events", json.dumps(event).encode()
    if i % 10 < 8:
        return "GET", f"/api/events?limit=20&key_id={key_id}", None
    return "GET", "/api/stats", None


class Phase:
    """The victim's traffic from start() until stop(): every answer and every latency (ms)."""

    def __init__(self, target, key):
        self.target, self.key = target, key
        self.idle, self.inflight = [], set()
        self.answers, self.latencies, self.connects, self.stopped = Counter(), [], [], False
        # Every request as (second into the phase it was due, "METHOD /path", ms, on a new connection):
        # tells the attack window from what came after it, and a pause from contention.
        self.began, self.timeline = None, []

    def start(self):
        self.runner = asyncio.create_task(self.run())

    async def run(self):
        loop = asyncio.get_running_loop()
        began, i = loop.time(), 0
        self.began = began
        while not self.stopped:
            due = began + i / RATE
            await asyncio.sleep(max(0.0, due - loop.time()))
            if self.stopped:
                break
            task = asyncio.create_task(self.one(i, due))
            self.inflight.add(task)
            task.add_done_callback(self.inflight.discard)
            i += 1

    async def stop(self):
        self.stopped = True
        await self.runner
        if self.inflight:
            await asyncio.wait(set(self.inflight))  # each is bounded by the request timeout
        for client, _, _ in self.idle:
            client.close()
        return {"answers": {str(k): v for k, v in self.answers.items()}, "latencies_ms": self.latencies,
                "connects_ms": self.connects, "timeline": self.timeline}

    async def one(self, i, due):
        loop = asyncio.get_running_loop()
        method, path, body = traffic(i)
        headers = {"X-API-Key": self.key, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        client, uses = self.checkout(loop.time())
        try:
            response = await client.call(method, path, headers, body)
            if client.connect_ms is not None:
                self.connects.append(client.connect_ms)
            self.answers[response.status] += 1
            if client.writer is not None and uses + 1 < PER_CONNECTION:
                self.idle.append((client, uses + 1, loop.time()))
            else:
                client.close()
        except TimeoutError:
            self.answers["timeout"] += 1
        except BROKEN:
            self.answers["no answer"] += 1
        ms = (loop.time() - due) * 1000
        self.latencies.append(ms)
        self.timeline.append((round(due - self.began, 2), f"{method} {path.split('?')[0]}", round(ms, 1), uses == 0))

    def checkout(self, now):
        while self.idle:
            client, uses, since = self.idle.pop()
            if now - since <= IDLE_SECONDS:
                return client, uses
            client.close()
        return Client(self.target, SOURCE), 0


async def serve(conn):
    """Commands over the pipe: ("run", host, port, key) ... ("stop",) -> results; ("quit",)."""
    loop = asyncio.get_running_loop()
    phase = None
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command[0] == "run":
            phase = Phase(Target(command[1], command[2]), command[3])
            phase.start()
        elif command[0] == "stop":
            conn.send(await phase.stop())
        else:
            return


def main(conn):
    asyncio.run(serve(conn))
