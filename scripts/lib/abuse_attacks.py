"""The attacks of scripts/abuse (issue 11), each a set of asyncio slots run for a window.

A slot is one hostile connection that comes back when it is closed or answered (after a second, or
the Retry-After it was given, up to 5 s), so the pressure holds for the whole window. Slots start
spread over the first quarter of the window (2 to 5 s): opening 7 000 connections takes Python
seconds of CPU, and a faster burst stalls our own event loop. When the window ends every slot is
cancelled and its socket closed. Addresses: the anonymous flood comes from 200 (a botnet:
per-address limits alone cannot save the node), the slow attacks from tens, so a per-address
connection cap below ~50 is not enough either; no attacker shares an address with the victim or with
another row.
"""
import asyncio, json, random

from abuse_net import (BROKEN, REQUEST_TIMEOUT, Client, close, connect, keeps_alive, parse_head, random_key,
                       read_response, request, retry_after, sources, within)

FLOOD_CONNECTIONS, FLOOD_SOURCES = 1000, 200
STALLED_CONNECTIONS, STALLED_SOURCES, STALLED_CONTENT_LENGTH = 2000, 40, 1048000
STALLED_FAST_CHUNK = b"a" * 32768
WRITE_BUFFER = 65536
SLOWLORIS_CONNECTIONS, SLOWLORIS_SOURCES, SLOWLORIS_EVERY = 3000, 60, 10.0
SSE_STREAMS, SSE_SOURCES, TOKEN_BURST = 2000, 8, 300
MINT_KEYS, MINT_PLAN_PER_MIN, INGESTS_PER_SECOND = 20, 5, 10


async def window(seconds, tally, slots):
    """Runs the slots for `seconds`, notes how many connections they were still holding, and
    closes them all (each slot closes its own socket when cancelled)."""
    tasks = [asyncio.create_task(slot) for slot in slots]
    await asyncio.sleep(seconds)
    tally.held_at_end, tally.stopping = tally.holding, True
    for task in tasks:
        task.cancel()
    _, pending = await asyncio.wait(tasks, timeout=15)
    if pending:
        raise SystemExit(f"{len(pending)} attack slots outlived their window")


async def dial(target, tally, source):
    tally.attempts += 1
    return await connect(target, source)


def ramp(seconds):
    return min(5.0, max(2.0, seconds / 4))


def spread(n, index, over):
    return over * index / n


async def flood_slot(target, tally, source, delay):
    """Keep-alive requests with a fresh random key each, as fast as the node answers them."""
    await asyncio.sleep(delay)
    while not tally.stopping:
        try:
            reader, writer = await dial(target, tally, source)
        except (OSError, TimeoutError) as e:
            tally.unconnected(e)
            await asyncio.sleep(0.5)
            continue
        try:
            while not tally.stopping:
                headers = {"X-API-Key": random_key(), "Content-Type": "application/json"}
                if random.random() < 0.5:
                    body = b'{"key_id":"k1","event_type":"signing_request","severity":"nominal"}'
                    writer.write(request(target, "POST", "/api/events", headers, body))
                else:
                    writer.write(request(target, "GET", "/api/stats", headers))
                tally.sent += 1
                tally.holding += 1  # a request waiting for its answer
                try:
                    response = await within(REQUEST_TIMEOUT, read_response(reader))
                finally:
                    tally.holding -= 1
                tally.answer(response.status, response.headers)
                if not keeps_alive(response):
                    break
        except TimeoutError:
            tally.none("timeout")
        except BROKEN:
            tally.none("closed")
        finally:
            close(writer)


async def trickle_slot(target, tally, source, delay, head, drip, every, body_limit=None):
    """A request that never ends: `head()`, then `drip()` every `every` seconds (never more than
    `body_limit` body bytes in all, so the body stays unfinished) until the node answers or hangs up.
    Counted as a connection opened; the node's answer (if any) as its status."""
    await asyncio.sleep(delay)
    while not tally.stopping:
        wait = 1.0
        try:
            reader, writer = await dial(target, tally, source)
        except (OSError, TimeoutError) as e:
            tally.unconnected(e)
            await asyncio.sleep(wait)
            continue
        tally.sent += 1
        tally.holding += 1
        try:
            writer.write(head())
            sent = 0
            while not tally.stopping:
                try:
                    answer = await within(every * random.uniform(0.8, 1.2), reader.readuntil(b"\r\n\r\n"))
                except TimeoutError:
                    if writer.is_closing():
                        raise ConnectionResetError
                    chunk = drip()[:None if body_limit is None else max(0, body_limit - sent)]
                    # A node that stopped reading gets no more: our buffers stay small.
                    if chunk and writer.transport.get_write_buffer_size() < WRITE_BUFFER:
                        writer.write(chunk)
                        sent += len(chunk)
                    continue
                status, headers = parse_head(answer)
                tally.answer(status, headers)
                wait = retry_after(headers)
                break
        except asyncio.IncompleteReadError as e:
            if e.partial.startswith(b"HTTP/1."):  # answered, then closed before the blank line
                tally.answer(*parse_head(e.partial + b"\r\n\r\n"))
            else:
                tally.none("closed")
        except BROKEN:
            tally.none("closed")
        finally:
            tally.holding -= 1
            close(writer)
        await asyncio.sleep(wait)


def stalled_slots(target, tally, row, over, group=1):
    """Content-Length: 1048000, then the body too slowly to finish: half of the connections send
    4 bytes a second (what body and idle timeouts are for), half 32 KB a second (640 KB in 20 s: what
    a node that buffers bodies before it knows the caller runs out of memory on). Within each half,
    half go to register (anonymous) and half to ingest with a random key of their own."""
    addresses = sources(row, group, STALLED_SOURCES)
    slots = []
    for i in range(STALLED_CONNECTIONS):
        path = "/api/v1/partners/register" if i % 2 else "/api/events"
        drip = (lambda: b"aaaa") if i % 4 < 2 else (lambda: STALLED_FAST_CHUNK)
        slots.append(trickle_slot(target, tally, addresses[i % len(addresses)], spread(STALLED_CONNECTIONS, i, over),
                                  lambda p=path: stalled_head(target, p), drip, 1.0, STALLED_CONTENT_LENGTH - 9))
    return slots


def stalled_head(target, path):
    headers = {"Content-Type": "application/json", "Content-Length": STALLED_CONTENT_LENGTH}
    if path == "/api/events":
        headers["X-API-Key"] = random_key()
    return request(target, "POST", path, headers) + b'{"name":"'


def slowloris_slots(target, tally, row, over, group=2):
    """Half a header block, then one more header line every ~10 s, never the blank line."""
    addresses = sources(row, group, SLOWLORIS_SOURCES)
    head = lambda: request(target, "GET", "/api/stats", {"User-Agent": "abuse"}, end=False)
    drip = lambda: f"X-Pad-{random.randrange(10**6)}: {random.randrange(10**9)}\r\n".encode()
    return [trickle_slot(target, tally, addresses[i % len(addresses)], spread(SLOWLORIS_CONNECTIONS, i, over),
                         head, drip, SLOWLORIS_EVERY) for i in range(SLOWLORIS_CONNECTIONS)]


async def sse_slot(target, tally, source, delay, token):
    """One live stream on a valid session token, held open; reopened when it ends or is refused."""
    await asyncio.sleep(delay)
    while not tally.stopping:
        wait = 1.0
        try:
            reader, writer = await dial(target, tally, source)
        except (OSError, TimeoutError) as e:
            tally.unconnected(e)
            await asyncio.sleep(wait)
            continue
        tally.sent += 1
        tally.holding += 1  # from the request until the stream ends: waiting or streaming
        try:
            writer.write(request(target, "GET", f"/api/events/stream?token={token}", {"Accept": "text/event-stream"}))
            status, headers = parse_head(await within(REQUEST_TIMEOUT, reader.readuntil(b"\r\n\r\n")))
            tally.answer(status, headers, valid_credential=True)
            if status == 200:
                while not tally.stopping and await reader.read(65536):
                    pass
                tally.ended += not tally.stopping  # the node ended it
            else:
                wait = retry_after(headers)
        except TimeoutError:
            tally.none("timeout")
        except BROKEN:
            tally.none("closed")
        finally:
            tally.holding -= 1
            close(writer)
        await asyncio.sleep(wait)


async def token_burst(target, tally, addresses, api_key, after):
    """TOKEN_BURST session-token requests at once with the partner's (valid) API key."""
    await asyncio.sleep(after)

    async def one(source):
        client = Client(target, source)
        tally.sent += 1
        tally.attempts += 1
        try:
            response = await client.call("POST", "/api/v1/auth/token", {"X-API-Key": api_key}, b"")
            tally.answer(response.status, response.headers, valid_credential=True)
        except TimeoutError:
            tally.none("timeout")
        except BROKEN:
            tally.none("closed")
        finally:
            client.close()
    await asyncio.gather(*(one(addresses[i % len(addresses)]) for i in range(TOKEN_BURST)))


def sse_slots(target, tally, row, partner, seconds, over, group=3):
    addresses = sources(row, group, SSE_SOURCES)
    slots = [sse_slot(target, tally, addresses[i % len(addresses)], spread(SSE_STREAMS, i, over), partner["token"])
             for i in range(SSE_STREAMS)]
    return slots + [token_burst(target, tally, addresses, partner["api_key"], min(over + 1, seconds / 3))]


# ---------------------------------------------------------------- the rows
async def anon_flood(target, tally, row, seconds, partner):
    addresses, over = sources(row, 1, FLOOD_SOURCES), ramp(seconds)
    await window(seconds, tally, [flood_slot(target, tally, addresses[i % FLOOD_SOURCES],
                                             spread(FLOOD_CONNECTIONS, i, over)) for i in range(FLOOD_CONNECTIONS)])


async def stalled_uploads(target, tally, row, seconds, partner):
    await window(seconds, tally, stalled_slots(target, tally, row, ramp(seconds)))


async def slowloris(target, tally, row, seconds, partner):
    await window(seconds, tally, slowloris_slots(target, tally, row, ramp(seconds)))


async def sse_flood(target, tally, row, seconds, partner):
    await window(seconds, tally, sse_slots(target, tally, row, partner, seconds, ramp(seconds)))


async def all_at_once(target, tally, row, seconds, partner):
    over = ramp(seconds)
    await window(seconds, tally, stalled_slots(target, tally, row, over) + slowloris_slots(target, tally, row, over)
                 + sse_slots(target, tally, row, partner, seconds, over))


async def key_minting(target, tally, row, seconds, partner):
    """A partner on a 5/min plan mints keys with whichever key still has budget, then spreads
    ingests over all of them. Returns what the row needs to judge it: keys active at the end
    and requests accepted within the minute after the partner's first one."""
    loop = asyncio.get_running_loop()
    client, keys, spent, accepted = Client(target, sources(row, 1, 1)[0]), [partner["api_key"]], set(), []
    began = loop.time()
    mints, refusals_in_a_row = 0, 0

    async def send(method, path, key, body):
        tally.sent += 1
        tally.attempts += 1
        try:
            response = await client.call(method, path, {"X-API-Key": key, "Content-Type": "application/json"}, body)
        except TimeoutError:
            tally.none("timeout")
            return None
        except BROKEN:
            tally.none("closed")
            return None
        tally.answer(response.status, response.headers, valid_credential=True)
        if 200 <= response.status < 300:
            accepted.append(loop.time())
        return response

    minting_until = began + seconds / 2
    while len(keys) <= MINT_KEYS and mints < 3 * MINT_KEYS and refusals_in_a_row < 3 and loop.time() < minting_until:
        usable = [k for k in keys if k not in spent]
        if not usable:
            break
        key, mints = usable[mints % len(usable)], mints + 1
        response = await send("POST", "/api/v1/api-keys", key, json.dumps({"name": f"minted-{mints}"}).encode())
        if response is not None and response.status == 201:
            keys.append(json.loads(response.body)["api_key"])
            refusals_in_a_row = 0
        elif response is not None and response.status == 429:
            spent.add(key)
        elif response is not None and 400 <= response.status < 500:
            refusals_in_a_row += 1  # the cap on active keys: more tries would only repeat it
    i = 0
    while loop.time() < began + seconds:
        body = json.dumps({"key_id": f"mint-{i % 5}", "event_type": "signing_request", "severity": "nominal"})
        await send("POST", "/api/events", keys[i % len(keys)], body.encode())
        i += 1
        await asyncio.sleep(1 / INGESTS_PER_SECOND)
    client.close()
    # The partner's budgets start with its first authenticated request: the first mint.
    return {"active_keys": len(keys), "minted": len(keys) - 1, "mint_attempts": mints,
            "accepted_in_minute": sum(1 for t in accepted if t < began + 60), "ingests_sent": i}


# Connections (or requests) each attack tries at the least: fewer means the instrument, not the
# node, failed, and the row must not pass on an attack that never happened.
LEAST_ATTEMPTS = {"anon-flood": FLOOD_CONNECTIONS, "stalled-uploads": STALLED_CONNECTIONS,
                  "slowloris": SLOWLORIS_CONNECTIONS, "sse-flood": SSE_STREAMS + TOKEN_BURST, "key-minting": MINT_KEYS,
                  "all-at-once": STALLED_CONNECTIONS + SLOWLORIS_CONNECTIONS + SSE_STREAMS + TOKEN_BURST}
ATTACKS = [("anon-flood", anon_flood), ("stalled-uploads", stalled_uploads), ("slowloris", slowloris),
           ("sse-flood", sse_flood), ("key-minting", key_minting), ("all-at-once", all_at_once)]
