#!/usr/bin/env python3
"""A local KeyPulse cluster for trying it out: one embedded Postgres and N nodes on loopback.

Usage: cluster.py [--nodes N] [--http-port FIRST] [--dir DIR]
Nodes listen on FIRST, FIRST+1, ...; they share the Postgres, the secrets and one Hazelcast
cluster, all named in DIR/join.json, from which `scripts/keypulse node --join-file` adds a member
(the exact command is printed). A node that stops is reported, with the end of its log. Ctrl-C
stops them gracefully, then Postgres. Logs and data are under DIR.
"""
import argparse, os, signal, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localcluster import LocalCluster  # noqa: E402


def tail(path, n):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:]).rstrip()
    except OSError:
        return "(no log)"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--http-port", type=int, default=8080)
    ap.add_argument("--dir", default=os.path.join("data", "cluster"))
    args = ap.parse_args()
    cluster = LocalCluster(os.path.abspath(args.dir), args.nodes, http_base=args.http_port,
                           name="keypulse-local", env={"KEYPULSE_WEBHOOK_ALLOWED_CIDRS": "127.0.0.0/8"})
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"starting Postgres and {args.nodes} nodes (logs in {args.dir}) ...", flush=True)
    try:
        cluster.start()
        print(cluster.describe(), flush=True)
        print("KeyPulse cluster ready; Ctrl-C stops it", flush=True)
        while True:
            time.sleep(1)
            for node in cluster.stopped():
                print(f"node{node.index} ({node.url}) stopped with exit code {node.proc.returncode}; "
                      f"last lines of {node.log}:", flush=True)
                print(tail(node.log, 5), flush=True)
                if not cluster.live_nodes():
                    print("every node has stopped", flush=True)
                    return
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping ...", flush=True)
        cluster.stop()


if __name__ == "__main__":
    main()
