#!/usr/bin/env python3
"""Prints the side-by-side table of a benches/run.sh run (results.jsonl): the median of the
rounds per target and workload, ratios to the baseline, and the issue's targets."""
import argparse
import json
import statistics
from collections import defaultdict

BASE, TUNED = "node-naive", "node-tuned"
TARGETS = ["ours-pg", "ours-sled", BASE, TUNED]


def load(path):
    runs = defaultdict(list)
    with open(path) as lines:
        for line in lines:
            line = line.strip()
            if line:
                run = json.loads(line)
                runs[(run["workload"], run["label"], run["wire"])].append(run)
    return runs


def median(runs, key, pick):
    values = [pick(r["result"]) for r in runs.get(key, []) if "result" in r]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def total(runs, key, pick):
    return sum(pick(r["result"]) for r in runs.get(key, []) if "result" in r)


FAULTS = ("lost", "duplicated", "reordered", "failed")


SHAPES = {"stress": "", "team": "team-"}


def count_faults(runs, target):
    """Lost, duplicated, reordered and refused sends: every steady window, and every
    saturation step that was held (the last step is where the target gave up), both shapes."""
    windows = []
    for prefix in SHAPES.values():
        windows += [r["result"] for r in runs.get((prefix + "steady", target, "socketio"), []) if "result" in r]
        for run in runs.get((prefix + "saturation", target, "socketio"), []):
            if "result" in run:
                windows += run["result"]["steps"][:-1]
    return sum(w.get(k, 0) for w in windows for k in FAULTS)


def fmt(value, digits=1):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def ratio(ours, theirs, higher_is_better=True):
    if not ours or not theirs:
        return "–"
    return f"{(ours / theirs if higher_is_better else theirs / ours):.2f}×"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--machine", default="")
    parser.add_argument("--versions", default="")
    parser.add_argument("--seconds", type=int, default=0)
    args = parser.parse_args()
    runs = load(args.results)
    failed = [k for k, rs in runs.items() if any(r.get("error") for r in rs)]

    def shape(prefix):
        steady, saturation = prefix + "steady", prefix + "saturation"
        return {
            "sat": {t: median(runs, (saturation, t, "socketio"), lambda r: r["heldRate"]) for t in TARGETS},
            "p99": {t: median(runs, (steady, t, "socketio"), lambda r: r["deliveryMs"]["p99"]) for t in TARGETS},
            "ack": {t: median(runs, (steady, t, "socketio"), lambda r: r["ackMs"]["p50"]) for t in TARGETS},
            "rate": {t: median(runs, (steady, t, "socketio"), lambda r: r["deliveredPerSecond"]) for t in TARGETS},
            "conns": {t: median(runs, (steady, t, "socketio"), lambda r: r["connections"]) for t in TARGETS},
            "cpu": {t: median(runs, (steady, t, "socketio"), lambda r: r["serverCpuMicrosPerDelivered"]) for t in TARGETS},
            "pg_cpu": {t: median(runs, (steady, t, "socketio"), lambda r: r.get("postgresCpuMicrosPerDelivered")) for t in TARGETS},
        }

    shapes = {name: shape(prefix) for name, prefix in SHAPES.items()}
    idle = {t: median(runs, ("idle", t, "socketio"), lambda r: r["rssPerConnectionBytes"]) for t in TARGETS}
    idle_ws = {t: median(runs, ("idle", t, "ws"), lambda r: r["rssPerConnectionBytes"]) for t in TARGETS}
    storm = {t: median(runs, ("storm", t, "socketio"), lambda r: r["arrivalsPerSecond"]) for t in TARGETS}
    faults = {t: count_faults(runs, t) for t in TARGETS}
    kib = lambda b: None if b is None else b / 1024

    print(f"machine: {args.machine}")
    print(f"versions: {args.versions}")
    rounds = max((len(rs) for rs in runs.values()), default=0)
    print(f"rounds: {rounds}, run time: {args.seconds} s (medians of the rounds)\n")
    for name, m in shapes.items():
        print(f"Shape `{name}`:\n")
        print("| target | saturation: msgs/s held (p99 ≤ 50 ms) | steady: delivered/s | steady: p99 delivery ms | steady: ack p50 ms | connections | CPU µs / delivered: server | PostgreSQL |")
        print("|---|---|---|---|---|---|---|---|")
        for t in TARGETS:
            print(f"| {t} | {fmt(m['sat'][t], 0)} | {fmt(m['rate'][t])} | {fmt(m['p99'][t])} | {fmt(m['ack'][t])} | "
                  f"{fmt(m['conns'][t], 0)} | {fmt(m['cpu'][t], 0)} | {fmt(m['pg_cpu'][t], 0)} |")
        print()
    print("Both shapes:\n")
    print("| target | idle RSS / conn, Socket.IO | idle RSS / conn, WebSocket | storm arrivals/s | lost+dup+reordered+failed |")
    print("|---|---|---|---|---|")
    for t in TARGETS:
        print(f"| {t} | {fmt(kib(idle[t]))} KiB | {fmt(kib(idle_ws[t]))}{' KiB' if idle_ws[t] is not None else ''} | "
              f"{fmt(storm[t])} | {faults[t]} |")

    print("\nTargets:\n")
    print("| target | measured | goal | met |")
    print("|---|---|---|---|")
    rows = []
    for name, m in shapes.items():
        sat, p99 = m["sat"], m["p99"]
        rows += [
            (f"{name}: saturation, ours-pg vs naive", ratio(sat["ours-pg"], sat[BASE]), "≥ 3×", bool(sat["ours-pg"] and sat[BASE] and sat["ours-pg"] >= 3 * sat[BASE])),
            (f"{name}: saturation, ours-pg vs tuned", ratio(sat["ours-pg"], sat[TUNED]), "≥ 1.5×", bool(sat["ours-pg"] and sat[TUNED] and sat["ours-pg"] >= 1.5 * sat[TUNED])),
            (f"{name}: saturation, ours-sled vs naive", ratio(sat["ours-sled"], sat[BASE]), "≥ 5×", bool(sat["ours-sled"] and sat[BASE] and sat["ours-sled"] >= 5 * sat[BASE])),
            (f"{name}: steady p99 delivery, ours-pg ({fmt(m['conns']['ours-pg'], 0)} connections)", f"{fmt(p99['ours-pg'])} ms", "≤ 25 ms", p99["ours-pg"] is not None and p99["ours-pg"] <= 25),
        ]
    rows += [
        ("idle Socket.IO RSS/conn, ours-pg vs naive", f"{fmt(kib(idle['ours-pg']))} vs {fmt(kib(idle[BASE]))} KiB", "≤ the baseline's", idle["ours-pg"] is not None and idle[BASE] is not None and idle["ours-pg"] <= idle[BASE]),
        ("idle WebSocket RSS/conn, ours-pg", f"{fmt(kib(idle_ws['ours-pg']))} KiB", "< 10 KiB", idle_ws["ours-pg"] is not None and idle_ws["ours-pg"] < 10 * 1024),
        ("lost/duplicated/reordered, ours", f"{faults['ours-pg'] + faults['ours-sled']}", "0", faults["ours-pg"] + faults["ours-sled"] == 0),
    ]
    for name, measured, goal, met in rows:
        print(f"| {name} | {measured} | {goal} | {'yes' if met else 'no'} |")
    print("\nFault run (kill -9 mid-run, restart, clients resume with `since`):\n")
    print("| target | sent | acked | delivered | lost | duplicated | reordered | missing from store | stored twice |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in ("ours-pg", "ours-sled"):
        for run in runs.get(("resume", t, "socketio"), []):
            r = run.get("result")
            if r:
                print(f"| {t} | {r['sent']} | {r['acked']} | {r['delivered']} | {r['lost']} | {r['duplicated']} | "
                      f"{r['reordered']} | {r['missingFromStore']} | {r['storedTwice']} |")
    if failed:
        print(f"\nruns that failed: {failed}")


if __name__ == "__main__":
    main()
