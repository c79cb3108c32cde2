#!/usr/bin/env python3
"""The capacity model of benches/scaling.md, from benches/scaling.sh's results.

Reads target/loadgen/scaling.jsonl (one RESULT line per run: `label` is
`<broadcaster>-<nodes>`), takes the median of the rounds, prints the measured table, fits
the costs, projects 1x, 10x and 100x today's load, and checks the model against the 1-3
node measurements.

The model, per broadcaster (LISTEN/NOTIFY or NATS), for S sends/s, D deliveries/s and C
open connections on N nodes:

    server CPU (cores) = S * (base + extra * (N - 1))
    PostgreSQL CPU     = S * pg
    broker CPU         = S * broker             (NATS only)
    memory             = C * per connection

`base` is a send's whole cost on one node (the write, its deliveries, the inbox);
`extra` is what each further node adds per send (it hears the send: with NOTIFY, every
node decodes every event; with NATS, only nodes with a subscriber of the conversation,
and every node with an agent the inbox update). Per node, the load is
S * (base / N + extra * (N - 1) / N), which tends to S * extra: a broadcaster stops
scaling out at S = budget / extra, whatever N.

    python3 benches/scaling.py target/loadgen/scaling.jsonl [--machine ...]
"""

import argparse
import json
import math
import statistics
from collections import defaultdict

# A node is planned at 70 % of 2 cores; PostgreSQL and the broker at 70 % of their cores.
NODE_CORES = 2.0
UTILIZATION = 0.7
MULTIPLIERS = (1, 10, 100)


def load(path):
    runs = defaultdict(list)
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            run = json.loads(line)
            if run.get("error"):
                continue
            runs[(run["workload"], run["label"])].append(run["result"])
    return runs


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def configs(runs):
    """(broadcaster, nodes) -> the medians the model needs."""
    table = {}
    for (workload, label), results in runs.items():
        if workload != "team-steady":
            continue
        broadcaster, nodes = label.rsplit("-", 1)
        nodes = int(nodes)

        def per_sent(field, results=results):
            return median(r[field] * 1e6 / max(r["sent"], 1) for r in results)

        saturation = runs.get(("team-saturation", label), [])
        table[(broadcaster, nodes)] = {
            "sent_per_s": median(r["sent"] / r["seconds"] for r in results),
            "delivered_per_s": median(r["deliveredPerSecond"] for r in results),
            "p99_ms": median(r["deliveryMs"]["p99"] for r in results),
            "connections": median(r["connections"] for r in results),
            "server_us_per_sent": per_sent("serverCpuSeconds"),
            "server_us_per_delivered": median(r["serverCpuMicrosPerDelivered"] for r in results),
            "pg_us_per_sent": per_sent("postgresCpuSeconds"),
            "broker_us_per_sent": per_sent("brokerCpuSeconds"),
            "loadgen_us_per_sent": per_sent("loadgenCpuSeconds"),
            "notify_per_sent": median(r["fanout"]["notificationsPerSent"] for r in results),
            "nats_in_per_sent": median(r["fanout"]["natsInPerSent"] for r in results),
            "nats_out_per_sent": median(r["fanout"]["natsOutPerSent"] for r in results),
            "faults": median(
                r["lost"] + r["duplicated"] + r["reordered"] + r["failed"] for r in results
            ),
            "held": median(r["heldRate"] for r in saturation) if saturation else float("nan"),
        }
    return table


def fit(table, broadcaster):
    """Least squares of server µs per send over (N - 1): (base, extra), and the means of
    the other costs."""
    points = sorted((n, row) for (b, n), row in table.items() if b == broadcaster)
    if not points:
        return None
    xs = [n - 1 for n, _ in points]
    ys = [row["server_us_per_sent"] for _, row in points]
    if len(points) > 1:
        mean_x, mean_y = statistics.mean(xs), statistics.mean(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        extra = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread
        base = mean_y - extra * mean_x
    else:
        base, extra = ys[0], 0.0
    return {
        "base": base,
        "extra": max(extra, 0.0),
        "pg": statistics.mean(row["pg_us_per_sent"] for _, row in points),
        "broker": statistics.mean(row["broker_us_per_sent"] for _, row in points),
        "loadgen": statistics.mean(row["loadgen_us_per_sent"] for _, row in points),
        "points": points,
    }


def idle_costs(runs):
    """Memory per idle connection, and CPU per connection while connecting and holding
    (the handshakes dominate it: an upper bound on heartbeats, not a steady cost)."""
    results = next((r for (w, _), r in runs.items() if w == "idle"), [])
    if not results:
        return 0.0, 0.0
    rss = median(r["rssPerConnectionBytes"] for r in results)
    cpu = median(r["serverCpuSecondsWhileIdle"] / max(r["connections"], 1) for r in results)
    return rss, cpu


def nodes_needed(model, sends):
    """The fewest nodes keeping each under its CPU budget; None when no number does.
    (Idle connections cost memory, sized separately; their heartbeats' CPU is negligible
    next to sends at these loads.)"""
    budget = NODE_CORES * UTILIZATION
    if model["extra"] and sends * model["extra"] / 1e6 >= budget:
        return None
    for n in range(1, 100_000):
        total = sends * (model["base"] + model["extra"] * (n - 1)) / 1e6
        if total / n <= budget:
            return n
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--machine", default="")
    parser.add_argument("--versions", default="")
    parser.add_argument("--seconds", type=int, default=0)
    args = parser.parse_args()
    runs = load(args.results)
    table = configs(runs)
    rss, idle_cpu = idle_costs(runs)

    if args.machine:
        print(f"Machine: {args.machine}. {args.versions}. Took {args.seconds} s.\n")
    print("Measured (median of rounds; team shape, fixed rate; CPU summed over the nodes):\n")
    print("| broadcaster | nodes | sends/s | delivered/s | p99 delivery ms | faults | server µs/send "
          "| server µs/delivery | PostgreSQL µs/send | broker µs/send | NOTIFYs/send (each heard by every node) "
          "| NATS msgs in/send | NATS msgs out/send (one per subscribing node) | saturation: sends/s held |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (broadcaster, nodes), row in sorted(table.items(), key=lambda kv: (kv[0][0] != "notify", kv[0][1])):
        print(f"| {broadcaster} | {nodes} | {row['sent_per_s']:.0f} | {row['delivered_per_s']:.0f} "
              f"| {row['p99_ms']:.1f} | {row['faults']:.0f} | {row['server_us_per_sent']:,.0f} "
              f"| {row['server_us_per_delivered']:,.0f} | {row['pg_us_per_sent']:,.0f} "
              f"| {row['broker_us_per_sent']:,.0f} | {row['notify_per_sent']:.2f} "
              f"| {row['nats_in_per_sent']:.2f} | {row['nats_out_per_sent']:.2f} | {row['held']:.0f} |")
    print(f"\nIdle connections: {rss / 1024:.1f} KiB each; {idle_cpu * 1e6:,.0f} µs CPU per connection "
          "to connect and hold it (mostly the handshake).\n")

    models = {b: fit(table, b) for b in ("notify", "nats")}
    print("Fitted costs per send (µs of one core):\n")
    print("| broadcaster | base (1 node) | extra per further node | PostgreSQL | broker | stops scaling out at (sends/s) |")
    print("|---|---|---|---|---|---|")
    for broadcaster, model in models.items():
        if not model:
            continue
        ceiling = (NODE_CORES * UTILIZATION * 1e6 / model["extra"]) if model["extra"] else math.inf
        print(f"| {broadcaster} | {model['base']:,.0f} | {model['extra']:,.0f} | {model['pg']:,.0f} "
              f"| {model['broker']:,.0f} | {ceiling:,.0f} |")

    # "Today's load" is the steady window's: the fixed rate every configuration ran.
    today = table.get(("notify", 1)) or next(iter(table.values()), None)
    if today is None:
        return
    sends0, connections0 = today["sent_per_s"], today["connections"]
    print(f"\nProjection from today's load (the steady window: {sends0:.0f} sends/s, "
          f"{connections0:.0f} connections), nodes of {NODE_CORES:.0f} cores at {UTILIZATION:.0%}:\n")
    print("| load | broadcaster | chat-server nodes | PostgreSQL cores | broker cores | memory for connections |")
    print("|---|---|---|---|---|---|")
    for multiplier in MULTIPLIERS:
        sends, connections = sends0 * multiplier, connections0 * multiplier
        for broadcaster, model in models.items():
            if not model:
                continue
            nodes = nodes_needed(model, sends)
            pg_cores = sends * model["pg"] / 1e6 / UTILIZATION
            broker_cores = sends * model["broker"] / 1e6 / UTILIZATION
            memory = connections * rss / 2**30
            print(f"| {multiplier}× | {broadcaster} | {nodes if nodes else 'no number of nodes'} "
                  f"| {pg_cores:.1f} | {broker_cores:.2f} | {memory:.2f} GiB |")

    print("\nCheck against the measurements: server µs per send, fitted vs measured; and the "
          "saturation rate this 2-core machine should hold when nodes, PostgreSQL, the broker and "
          "loadgen share it (2 cores / everything's µs per send), vs measured:\n")
    print("| broadcaster | nodes | server µs/send: model | measured | sends/s held: model | measured |")
    print("|---|---|---|---|---|---|")
    for broadcaster, model in models.items():
        if not model:
            continue
        for nodes, row in model["points"]:
            fitted = model["base"] + model["extra"] * (nodes - 1)
            per_send = fitted + model["pg"] + model["broker"] + model["loadgen"]
            held = 2.0 * 1e6 / per_send
            print(f"| {broadcaster} | {nodes} | {fitted:,.0f} | {row['server_us_per_sent']:,.0f} "
                  f"| {held:,.0f} | {row['held']:.0f} |")


if __name__ == "__main__":
    main()
