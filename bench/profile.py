#!/usr/bin/env python3
"""bench/profile.py: where a tricache node's time goes under the 50-client load.

Starts a cluster (scripts/cluster, free ports), prefills it, then runs the same
load three times (redis-benchmark SET -c 50 on node 1's Redis endpoint, or
--native: tricache-bench over every node):
  1. plain: ops/s, CPU per operation of every node and of the load program,
     transactions delivered (so operations per transaction: the batch size);
  2. under `strace -c -f` on node 1 (the coordinator) and node 2 (a participant):
     system calls per operation, by name;
  3. under `perf record -g` on node 1: the top of the profile by DSO and symbol.
strace slows the nodes down, so run 2's throughput is not a figure; its calls
per operation are. Everything is killed at the end.
  python3 bench/profile.py [--nodes 3] [--native] [--seconds 5] [--out DIR]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: the systems and load programs)


def delivered(cluster, node):
    out = subprocess.run([os.path.join(run.BIN, "client", "tricache"), "--server", cluster.cluster("addr", str(node)),
                          "--cluster", "tricache", "status"], stdout=subprocess.PIPE, text=True, check=True).stdout
    return int(re.search(r"delivered=(\d+)", out).group(1))


def load_argv(args, cluster, n_ops):
    if args.native:
        return [os.path.join(run.BIN, "bench", "node", "tricache-bench"), "--server", cluster.servers(),
                "--connections", "50", "--seconds", str(args.seconds), "--warmup", "0", "--keys", str(run.KEYS),
                "--value-bytes", str(run.VALUE), "--set", "100", "--get", "0"]
    return run.redis_benchmark(cluster.resp_port, "set", 50, 1, n_ops)


def ops_of(args, out, n_ops):
    if args.native:
        return run.parse_tricache_bench(out)[0] * args.seconds
    return n_ops


def strace_counts(path):
    counts = {}
    with open(path) as f:
        for line in f:
            cells = line.split()
            if len(cells) >= 5 and re.fullmatch(r"[\d.]+", cells[0]) and cells[-1] != "total":
                counts[cells[-1]] = int(cells[3])
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--native", action="store_true", help="tricache-bench instead of redis-benchmark")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--out", default=os.path.join(run.ROOT, "run", "profile"))
    args = ap.parse_args()
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, run.on_signal)
    os.makedirs(args.out, exist_ok=True)
    cluster = run.Tricache(f"tricache-{args.nodes}", args.nodes, args.out)
    cluster.start()
    try:
        run.prefill(cluster.resp_port)
        pids = cluster.pids()
        # 1. plain
        probe, _ = run.run_client(run.redis_benchmark(cluster.resp_port, "set", 50, 1, 20000), 120)
        n_ops = int(run.parse_redis_benchmark(probe)[0] * args.seconds)
        tx0 = delivered(cluster, 1)
        out, ccpu, scpu_total = run.measured(load_argv(args, cluster, n_ops), 120 + 4 * args.seconds, pids)
        tx1 = delivered(cluster, 1)
        ops = ops_of(args, out, n_ops)
        rate = run.parse_tricache_bench(out)[0] if args.native else run.parse_redis_benchmark(out)[0]
        print(f"load: {'tricache-bench' if args.native else 'redis-benchmark'} SET, 50 clients, {args.nodes} nodes; "
              f"load average {run.loadavg()}")
        print(f"plain: {rate:.0f} ops/s; {(tx1 - tx0) and ops / (tx1 - tx0):.1f} operations per transaction; "
              f"CPU per operation: nodes {scpu_total / ops * 1e6 / len(pids):.1f} us each, "
              f"load program {ccpu / ops * 1e6:.1f} us")
        # 2. strace on node 1 and node 2
        traces = []
        for i in (1, 2):
            path = os.path.join(args.out, f"strace-node{i}.txt")
            traces.append((i, path, run.spawn(["strace", "-c", "-f", "-o", path, "-p", str(pids[i - 1])],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        time.sleep(1)
        out, _, _ = run.measured(load_argv(args, cluster, n_ops), 300 + 8 * args.seconds, pids)
        ops = ops_of(args, out, n_ops)
        for _, _, p in traces:
            p.send_signal(signal.SIGINT)
            p.wait()
            run.started.remove(p)
        for i, path, _ in traces:
            counts = strace_counts(path)
            total = sum(counts.values())
            top = sorted(counts.items(), key=lambda kv: -kv[1])[:8]
            print(f"node {i} ({'coordinator' if i == 1 else 'participant'}): {total / ops:.2f} system calls per "
                  "operation: " + ", ".join(f"{name} {n / ops:.2f}" for name, n in top))
        # 3. perf on node 1
        data = os.path.join(args.out, "perf-node1.data")
        perf = run.spawn(["perf", "record", "-g", "-o", data, "-p", str(pids[0])], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        run.measured(load_argv(args, cluster, n_ops), 120 + 4 * args.seconds, pids)
        perf.send_signal(signal.SIGINT)
        perf.wait()
        run.started.remove(perf)
        for sort in ("comm,dso", "dso,sym"):
            rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", sort, "-g", "none",
                                  "--percent-limit", "1.5"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True).stdout
            print(f"perf node 1 by {sort}:")
            for line in rep.splitlines():
                if line.strip() and not line.startswith("#"):
                    print("  " + line.strip())
    finally:
        run.cleanup()


if __name__ == "__main__":
    main()
