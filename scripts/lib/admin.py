#!/usr/bin/env python3
"""The operator API from the command line: `scripts/keypulse admin COMMAND ...`.

Where it goes and with which token:
  KEYPULSE_URL (else the join file's first member, else http://127.0.0.1:8080) and
  KEYPULSE_ADMIN_TOKEN (else the admin token file the cluster's join file names: --join-file FILE or
  KEYPULSE_JOIN_FILE, else whichever of data/cluster/join.json and data/join.json lists that URL;
  else data/admin-token). The token's origin is printed when the node refuses it.
Exit status: 0 on success, 1 when the node answers with an error (its answer is printed), 2 for a
usage error, 3 when the node cannot be reached.
"""
import json, os, sys, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_URL = "http://127.0.0.1:8080"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
USAGE = """usage: scripts/keypulse admin [--join-file FILE] COMMAND
  partners | plan PARTNER [PER_KEY_MIN [PARTNER_MIN [MAX_KEYS]]] | suspend PARTNER | resume PARTNER
  mint PARTNER | revoke API_KEY_ID | cluster [--json] | owner PARTNER KEY_ID
  replay [PARTNER]        (failed webhook deliveries back into the outbox)"""


def fail(message, status):
    print(message, file=sys.stderr)
    sys.exit(status)


def read_join(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read the join file {path}: {e}", 2)


def target(join_file):
    """(url, token, where the token came from)."""
    url = os.environ.get("KEYPULSE_URL")
    join = read_join(join_file) if join_file else None
    if join is None and not os.environ.get("KEYPULSE_ADMIN_TOKEN"):
        wanted = (url or DEFAULT_URL).rstrip("/")
        for candidate in (os.path.join(ROOT, "data", "cluster", "join.json"), os.path.join(ROOT, "data", "join.json")):
            if os.path.exists(candidate):
                found = read_join(candidate)
                if wanted in [u.rstrip("/") for u in found.get("http_urls", [])]:
                    join, join_file = found, candidate
                    break
    if not url:
        url = (join or {}).get("http_urls", [DEFAULT_URL])[0]
    if os.environ.get("KEYPULSE_ADMIN_TOKEN"):
        return url, os.environ["KEYPULSE_ADMIN_TOKEN"], "KEYPULSE_ADMIN_TOKEN"
    if join:
        where = join.get("secrets", {}).get("admin_token", "")
        if where.startswith("env:"):
            fail(f"the cluster's admin token is set through {where[4:]} ({join_file}); set KEYPULSE_ADMIN_TOKEN", 2)
        path = os.path.join(os.path.dirname(os.path.abspath(join_file)), where)
        return url, read_token(path), path
    path = os.path.join(ROOT, "data", "admin-token")
    return url, read_token(path), path


def read_token(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        fail(f"no admin token: set KEYPULSE_ADMIN_TOKEN, or pass --join-file FILE ({path} cannot be read)", 2)


def call(url, token, origin, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url.rstrip("/") + "/admin" + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with OPENER.open(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace").strip()
        hint = f" (token from {origin})" if e.code in (401, 403) else ""
        fail(f"{url}: HTTP {e.code}{hint}: {text}", 1)
    except (urllib.error.URLError, OSError) as e:
        fail(f"cannot reach {url}: {getattr(e, 'reason', e)} (set KEYPULSE_URL, or pass --join-file FILE)", 3)


def cluster_table(view):
    members = view.get("members", [])
    rows = [["MEMBER", "HTTP URL", "READY", "PARTITIONS", "DETECTOR KEYS", "OUTBOX", "SCHEDULER"]]
    for m in members:
        answered = m.get("answered", False)
        rows.append([m["address"] + (" (this)" if m.get("this_node") else ""),
                     m.get("http_url") or "-",
                     ("yes" if m.get("ready") else "no") if answered else "no answer",
                     str(m.get("partitions_owned", 0)),
                     str(m["detector_keys"]) if answered and m.get("detector_keys") is not None else "-",
                     str(m["outbox_backlog"]) if answered and m.get("outbox_backlog") is not None else "-",
                     "leader" if m.get("scheduler_leader") else ""])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"cluster {view.get('cluster_name')}: {len(members)} member{'s' if len(members) != 1 else ''}"]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    outbox = view.get("outbox", {})
    lines.append(f"outbox: {outbox.get('pending', 0)} pending, {outbox.get('unclaimed', 0)} unclaimed, "
                 f"oldest {outbox.get('oldest_seconds', 0)} s")
    return "\n".join(lines)


def main(argv):
    join_file = os.environ.get("KEYPULSE_JOIN_FILE")
    if len(argv) >= 2 and argv[0] == "--join-file":
        join_file, argv = argv[1], argv[2:]
    if not argv or argv[0] in ("help", "-h", "--help"):
        fail(USAGE, 2 if argv[:1] != ["help"] else 0)
    cmd, args = argv[0], argv[1:]

    def need(n):
        if len(args) < n:
            fail(USAGE, 2)

    def num(i):
        return int(args[i]) if len(args) > i and args[i] != "" else None

    url, token, origin = target(join_file)
    if cmd == "partners":
        out = call(url, token, origin, "GET", "/partners")
    elif cmd == "plan":
        need(1)
        out = call(url, token, origin, "PUT", f"/partners/{args[0]}/plan",
                   {"rate_limit_per_min": num(1), "partner_rate_limit_per_min": num(2), "max_active_keys": num(3)})
    elif cmd in ("suspend", "resume"):
        need(1)
        out = call(url, token, origin, "PUT", f"/partners/{args[0]}/status",
                   {"status": "suspended" if cmd == "suspend" else "active"})
    elif cmd == "mint":
        need(1)
        out = call(url, token, origin, "POST", f"/partners/{args[0]}/keys", {})
    elif cmd == "revoke":
        need(1)
        out = call(url, token, origin, "DELETE", f"/keys/{args[0]}")
    elif cmd == "cluster":
        out = call(url, token, origin, "GET", "/cluster")
        if "--json" not in args:
            print(cluster_table(out))
            return
    elif cmd == "owner":
        need(2)
        out = call(url, token, origin, "GET", f"/cluster/owner?partner_id={urllib.parse.quote(args[0])}"
                                            f"&key_id={urllib.parse.quote(args[1])}")
    elif cmd == "replay":
        out = call(url, token, origin, "POST", "/deliveries/replay", {"partner_id": args[0]} if args else {})
    else:
        fail(USAGE, 2)
    # Compact, as the node writes it: a script greps the answer as it would curl's.
    print(json.dumps(out, separators=(",", ":"), ensure_ascii=False))


if __name__ == "__main__":
    import urllib.parse  # noqa: E402  (quote, for owner)
    main(sys.argv[1:])
