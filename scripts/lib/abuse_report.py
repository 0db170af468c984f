"""The abuse run's table (results.md and stdout), one row per attack, then why rows failed;
everything measured, as data, in results.json."""
import json, os

UNITS = {"anon-flood": "requests", "stalled-uploads": "connections", "slowloris": "connections",
         "sse-flood": "streams + tokens", "key-minting": "requests", "all-at-once": "connections + tokens"}
HEAD = ("attack", "sent", "2xx", "4xx (429)", "5xx (503 / 500)", "no answer", "held at end", "victim non-2xx",
        "victim p99 ms quiet → attack", "node memory MB (PSS) before → after (peak)", "log ERROR / traces", "ready after",
        "result")


def num(n):
    return "-" if n is None else f"{n:,}".replace(",", " ")


def cells(row, quiet_p99):
    if "tally" not in row:
        return [row["attack"]] + ["-"] * (len(HEAD) - 2) + ["FAIL"]
    tally, log = row["tally"], row["log"]
    classes, answers = tally.by_class(), tally.answers
    victim_bad = sum(n for k, n in row["victim_answers"].items() if not k.startswith("2"))
    return [row["attack"], f"{num(tally.sent)} {row['unit']}", num(classes["2xx"]),
            f"{num(classes['4xx'])} ({num(answers[429])})",
            f"{num(classes['5xx'])} ({num(answers[503])} / {num(answers[500])})", num(classes["none"]),
            num(tally.held_at_end), num(victim_bad), f"{quiet_p99} → {row['victim_p99']}",
            f"{num(row['rss_before'])} → {num(row['rss_after'])} ({num(row['peak_rss'])})",
            f"{num(log['errors'])} / {num(log['traces'])}" if log else "-",
            "yes" if row["ready_after"] and row["alive"] else "no", "FAIL" if row["misses"] else "PASS"]


def report(run, selected, seconds, problem, node_notes):
    lines = [f"Abuse run: {len(run.rows)} of {len(selected)} attacks, {run.args.seconds} s each, "
             f"{seconds:.0f} s in all."]
    if run.args.seconds < 20:
        lines.append("Development run: windows shorter than the issue's 20 s.")
    if run.p99_bar is not None:
        lines.append(f"Victim: 20 requests/s from 127.0.0.2; quiet p99 {run.quiet_p99} ms, bar under attack "
                     f"{run.p99_bar:g} ms (5 x max(quiet p99, 20 ms floor), over the requests due within the "
                     f"attack window). Attackers at nice {os.nice(0)} (elsewhere "
                     "they are other machines); every attack ran 4 s first, unmeasured, so that JIT warm-up "
                     "is not charged to the first row.")
    lines += ["", "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(cells(r, run.quiet_p99)) + " |" for r in run.rows]
    lines += ["", "No answer: could not connect, cut without an answer, or no answer within 10 s. Held at end: "
              "what the node still held when the window closed (requests unanswered, streams open).", ""]
    for r in run.rows:
        parts = [f"answers {dict(r['tally'].answers)}"] if "tally" in r else []
        parts += r["misses"] + r["notes"]
        if r.get("peak_files"):
            parts.append(f"the node's peak open files {num(r['peak_files'])}")
        lines.append(f"- {r['attack']}: " + "; ".join(parts))
    if node_notes:
        lines.append("- the node: " + "; ".join(node_notes))
    if problem:
        lines.append(f"- the run: {problem}")
    return "\n".join(lines)


def as_json(run):
    rows = []
    for r in run.rows:
        row = {k: v for k, v in r.items() if k != "tally"}
        if "tally" in r:
            t = r["tally"]
            row["attackers"] = {"sent": t.sent, "answers": {str(k): n for k, n in t.answers.items()},
                                "bad": dict(t.bad), "held_at_end": t.held_at_end, "streams_ended": t.ended}
        rows.append(row)
    return json.dumps({"seconds": run.args.seconds, "victim_quiet_p99_ms": run.quiet_p99,
                       "victim_p99_bar_ms": run.p99_bar, "rows": rows}, indent=2)
