#!/usr/bin/env python3
"""bench/run.py: tricache against Redis on this machine, side by side in one run.

Started by bench/run (which installs packages and builds first). Measures, one
system after the other and repeated --reps times (medians with min-max):
  redis       one redis-server, no persistence
  redis-3     a Redis primary with 2 replicas; writes followed by WAIT 2 0
              (tricache-redis-wait), reads and plain writes by redis-benchmark
  tricache-3  a 3-node cluster (scripts/cluster), redis-benchmark on node 1's
              Redis endpoint and tricache-bench on the native protocol
  tricache-5  the same with 5 nodes
and then memory: each of redis and the tricache systems started fresh, filled
with --memory-keys entries of 100-byte values, and its bytes per entry read
(Redis's used_memory and every process's resident set, before and after).
Every process listens on 127.0.0.1 on free ports and is killed at the end,
whatever happens. Figures only: nothing here passes or fails on speed.
"""
import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TRICACHE_BIN_DIR", os.path.join(ROOT, "build", "release"))
KEYS = 100000
VALUE = 100

# (mode name, redis-benchmark test, -c, -P): the three client shapes, SET and GET each.
RB_MODES = [
    ("SET c50", "set", 50, 1), ("GET c50", "get", 50, 1),
    ("SET c50 P16", "set", 50, 16), ("GET c50 P16", "get", 50, 16),
    ("SET c1", "set", 1, 1), ("GET c1", "get", 1, 1),
]
# The modes the other load programs measure; same names, so they share table groups.
NATIVE_MODES = [("SET c50", "set", 50), ("GET c50", "get", 50), ("SET c1", "set", 1), ("GET c1", "get", 1)]
WAIT_MODES = [("SET c50", 50), ("SET c1", 1)]
MODE_ORDER = [m[0] for m in RB_MODES]

started = []  # every Popen we started: killed (by process group) at exit
cluster_dirs = []  # scripts/cluster run dirs to bring down at exit


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cleanup(*_):
    for d in cluster_dirs:
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "cluster"), "down"], env=dict(os.environ, TRICACHE_RUN_DIR=d),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cluster_dirs.clear()
    for p in started:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    started.clear()


def on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(argv, **kw):
    p = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL, **kw)
    started.append(p)
    return p


def cpu_ticks(pid):
    """utime + stime of a live process, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


TICK = os.sysconf("SC_CLK_TCK")


def run_client(argv, timeout):
    """Runs a load program to completion; returns (stdout, cpu seconds it used)."""
    p = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    started.append(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise RuntimeError(f"timed out after {timeout} s: {' '.join(argv)}")
    finally:
        started.remove(p)
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode}: {' '.join(argv)}\n{err.strip()}")
    return out, None


def measured(argv, timeout, server_pids):
    """Runs a client, returning its stdout, the client's CPU seconds and the servers' CPU seconds."""
    before = {pid: cpu_ticks(pid) for pid in server_pids}
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out, _ = run_client(argv, timeout)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    server_cpu = sum(cpu_ticks(pid) - before[pid] for pid in server_pids) / TICK
    return out, client_cpu, server_cpu


# ------------------------------------------------------------------ the systems under test

class Redis:
    """One redis-server (replicas > 0: a primary and that many replicas of it)."""

    def __init__(self, name, replicas, workdir):
        self.name, self.replicas = name, replicas
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=workdir)
        self.procs, self.ports = [], []

    def start(self):
        primary = None
        for i in range(self.replicas + 1):
            port = free_port()
            argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", self.dir, "--daemonize", "no", "--logfile", os.path.join(self.dir, f"redis-{port}.log"),
                    "--protected-mode", "no"]
            if primary is not None:
                argv += ["--replicaof", "127.0.0.1", str(primary)]
            self.procs.append(spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self.ports.append(port)
            if primary is None:
                primary = port
            wait_until(lambda p=port: redis_cli(p, "PING") == "PONG", f"redis on {port}")
        if self.replicas:
            wait_until(lambda: redis_cli(primary, "INFO", "replication").count("state=online") == self.replicas,
                       f"{self.replicas} replicas online")

    @property
    def resp_port(self):
        return self.ports[0]

    def resp_ports(self):
        return [self.ports[0]]

    def pids(self):
        return [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            started.remove(p)
        self.procs, self.ports = [], []
        shutil.rmtree(self.dir, ignore_errors=True)


class Tricache:
    """A cluster of tricache-node processes, started and stopped by scripts/cluster."""

    def __init__(self, name, n, workdir):
        self.name, self.n = name, n
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=workdir)
        self.env = dict(os.environ, TRICACHE_RUN_DIR=self.dir, TRICACHE_BIN_DIR=BIN)

    def cluster(self, *args):
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "cluster"), *args], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"scripts/cluster {' '.join(args)}: exit {r.returncode}\n{r.stderr.strip()}")
        return r.stdout.strip()

    def start(self, max_entries=None, max_bytes=None):
        cluster_dirs.append(self.dir)
        limits = ["--max-entries", str(max_entries or 4 * KEYS)]
        if max_bytes:
            limits += ["--max-bytes", str(max_bytes)]
        # A random base port away from the defaults (other engineers' clusters may be running) and below the
        # kernel's ephemeral range, where any client's outgoing connection may hold a port; a port still taken
        # makes a node fail to start, and then another base is tried.
        for attempt in range(5):
            try:
                self.cluster("up", "-n", str(self.n), "--base-port", str(random.randint(20000, 32000)), *limits)
                return
            except RuntimeError as e:
                if attempt == 4 or "Address already in use" not in str(e):
                    raise
                log(f"  {self.name}: a port was taken, trying another base port")
                try:
                    self.cluster("down")  # whatever the failed start left running
                except RuntimeError:
                    pass

    @property
    def resp_port(self):
        return self.resp_ports()[0]

    def resp_ports(self):
        return [int(self.cluster("addr", str(i), "--resp").rsplit(":", 1)[1]) for i in range(1, self.n + 1)]

    def servers(self):
        return ",".join(self.cluster("addr", str(i)) for i in range(1, self.n + 1))

    def pids(self):
        out = []
        for i in range(1, self.n + 1):
            with open(os.path.join(self.dir, f"node-{i}.pid")) as f:
                out.append(int(f.read().strip()))
        return out

    def stop(self):
        self.cluster("down")
        cluster_dirs.remove(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


def redis_cli(port, *args):
    r = subprocess.run(["redis-cli", "-p", str(port), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True, timeout=10)
    return r.stdout.strip()


def wait_until(cond, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise RuntimeError(f"gave up waiting for {what}")


def pipe_sets(port, names):
    """SET every name to a VALUE-byte value through redis-cli --pipe; raises unless every reply was OK."""
    value = "v" * VALUE
    body = "".join(f"*3\r\n$3\r\nSET\r\n${len(n)}\r\n{n}\r\n${VALUE}\r\n{value}\r\n" for n in names)
    r = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=body.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
    if r.returncode != 0 or b"errors: 0" not in r.stdout:
        raise RuntimeError("redis-cli --pipe failed: " + r.stdout.decode(errors="replace")[-300:])


def prefill(port):
    """Every key both load programs use, set once, so GETs find values: key:%012d and k%d."""
    pipe_sets(port, [f"key:{i:012d}" for i in range(KEYS)] + [f"k{i}" for i in range(KEYS)])


def fill(port, count, prefix):
    """count distinct keys prefix%012d, in chunks of 100,000."""
    chunk = 100000
    for start in range(0, count, chunk):
        pipe_sets(port, (f"{prefix}{i:012d}" for i in range(start, min(count, start + chunk))))


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def redis_used_memory(port):
    m = re.search(r"^used_memory:(\d+)", redis_cli(port, "INFO", "memory"), re.M)
    if not m:
        raise RuntimeError(f"no used_memory from {port}")
    return int(m.group(1))


def dbsize(port):
    return int(redis_cli(port, "DBSIZE"))


# ------------------------------------------------------------------ the load programs

def redis_benchmark(port, test, clients, pipeline, n):
    return ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", test, "-n", str(n), "-r", str(KEYS),
            "-d", str(VALUE), "-c", str(clients), "-P", str(pipeline), "--csv"]


def parse_redis_benchmark(out):
    for line in out.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if len(cells) >= 7 and cells[0] in ("SET", "GET"):
            return float(cells[1]), float(cells[4]) * 1000, float(cells[6]) * 1000
    raise RuntimeError("no result line in redis-benchmark output:\n" + out)


def parse_kv_line(out, prefix):
    for line in out.splitlines():
        if line.startswith(prefix):
            return dict(kv.split("=", 1) for kv in line[len(prefix):].split() if "=" in kv)
    raise RuntimeError(f"no '{prefix}' line in:\n{out}")


def parse_tricache_bench(out):
    rate = float(re.search(r"throughput: ([0-9.]+) ok replies/s", out).group(1))
    errs = re.search(r"\((\d+) ok, (\d+) errors, (\d+) unanswered\)", out)
    if errs and (int(errs.group(2)) or int(errs.group(3))):
        log(f"  note: tricache-bench saw {errs.group(2)} errors, {errs.group(3)} unanswered")
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] == "all":
            return rate, float(cells[2]), float(cells[4])
    raise RuntimeError("no 'all' row in tricache-bench output:\n" + out)


class Runner:
    def __init__(self, args):
        self.args = args
        self.results = {}  # (system, tool, mode) -> list of {ops, p50, p99, srv_us, cli_us}
        self.rates = {}    # (system, tool, mode) -> last ops/s, to size redis-benchmark's -n
        self.memory_results = {}  # system -> bytes per entry (see memory())

    def record(self, key, ops, p50, p99, client_cpu, server_cpu, server_count):
        ops_done = max(ops * self.args.seconds, 1)
        row = {"ops": ops, "p50": p50, "p99": p99, "cli_us": client_cpu / ops_done * 1e6,
               "srv_us": server_cpu / ops_done * 1e6 / server_count}
        self.results.setdefault(key, []).append(row)
        self.rates[key] = ops
        log(f"  {key[0]:<11} {key[1]:<16} {key[2]:<12} {ops:>9.0f} ops/s  p50 {p50:>6.0f} us  p99 {p99:>6.0f} us"
            f"  cpu/op: server {row['srv_us']:.1f} us each, client {row['cli_us']:.1f} us")

    def rb(self, system, port, pids):
        for mode, test, clients, pipeline in RB_MODES:
            key = (system, "redis-benchmark", mode)
            if key not in self.rates:  # first time: a short probe, which also warms the connections
                probe = 2000 if clients == 1 else 20000 * pipeline
                probe = max(200, int(probe * min(1.0, self.args.seconds / 4)))  # shorter rows, shorter probes
                out, _, _ = measured(redis_benchmark(port, test, clients, pipeline, probe), 300, pids)
                self.rates[key] = parse_redis_benchmark(out)[0]
            n = max(1000, int(self.rates[key] * self.args.seconds))
            t0 = time.monotonic()
            out, ccpu, scpu = measured(redis_benchmark(port, test, clients, pipeline, n), 60 + 5 * self.args.seconds,
                                       pids)
            elapsed = time.monotonic() - t0
            ops, p50, p99 = parse_redis_benchmark(out)
            # CPU per op over the ops actually done (n), whatever the run's length.
            self.record(key, ops, p50, p99, ccpu * self.args.seconds / elapsed, scpu * self.args.seconds / elapsed,
                        len(pids))

    def wait_program(self, system, port, pids):
        for mode, clients in WAIT_MODES:
            argv = [os.path.join(BIN, "bench", "redis_wait", "tricache-redis-wait"), "--port", str(port),
                    "--connections", str(clients), "--seconds", str(self.args.seconds), "--warmup",
                    str(self.args.warmup), "--keys", str(KEYS), "--value-bytes", str(VALUE), "--wait-replicas", "2"]
            out, ccpu, scpu = measured(argv, 60 + 2 * self.args.seconds, pids)
            kv = parse_kv_line(out, "redis-wait:")
            if int(kv["short_waits"]) or int(kv["errors"]):
                log(f"  note: WAIT returned fewer than 2 replicas {kv['short_waits']} times, errors {kv['errors']}")
            self.record((system, "SET+WAIT 2 0", mode), float(kv["ops_per_s"]), float(kv["p50_us"]),
                        float(kv["p99_us"]), ccpu, scpu, len(pids))

    def native(self, system, servers, pids):
        for mode, op, clients in NATIVE_MODES:
            argv = [os.path.join(BIN, "bench", "node", "tricache-bench"), "--server", servers, "--connections",
                    str(clients), "--seconds", str(self.args.seconds), "--warmup", str(self.args.warmup), "--keys",
                    str(KEYS), "--value-bytes", str(VALUE), "--get", "100" if op == "get" else "0", "--set",
                    "100" if op == "set" else "0"]
            out, ccpu, scpu = measured(argv, 60 + 2 * self.args.seconds, pids)
            ops, p50, p99 = parse_tricache_bench(out)
            self.record((system, "tricache-bench", mode), ops, p50, p99, ccpu, scpu, len(pids))

    def memory(self, name, workdir):
        """Bytes per entry: a fresh system, read before and after --memory-keys entries are set through its
        Redis endpoint. Redis: used_memory (what the issue's target is measured against) and resident set;
        tricache: every node's resident set (each holds the whole cache)."""
        count = self.args.memory_keys
        if name == "redis":
            s = Redis(name, 0, workdir)
            s.start()
        else:
            s = Tricache(name, int(name.split("-")[1]), workdir)
            # Limits well above the fill, so nothing is evicted.
            s.start(max_entries=2 * count + 1000, max_bytes=4 * count * (VALUE + 16 + 64) + (64 << 20))
        try:
            port, pids = s.resp_port, s.pids()
            used0 = redis_used_memory(port) if name == "redis" else None
            rss0 = {pid: rss_bytes(pid) for pid in pids}
            t0 = time.monotonic()
            fill(port, count, "mem:")
            fill_s = time.monotonic() - t0
            # Every process holds every entry before it is read: a DBSIZE through a node's own endpoint is
            # ordered after the fill, so it answers `count` once that node has applied all of it.
            for p in s.resp_ports():
                held = dbsize(p)
                if held != count:
                    raise RuntimeError(f"{name}: DBSIZE {held} on port {p} after setting {count} distinct keys")
            after = {pid: rss_bytes(pid) for pid in pids}
            row = {"entries": count, "fill_s": fill_s,
                   "rss_per_entry": [(after[pid] - rss0[pid]) / count for pid in pids],
                   "rss_after": [after[pid] for pid in pids]}
            if used0 is not None:
                row["used_per_entry"] = (redis_used_memory(port) - used0) / count
            self.memory_results[name] = row
            log(f"  {name:<11} memory: {count} entries in {fill_s:.1f} s; resident bytes per entry "
                + ", ".join(f"{b:.0f}" for b in row["rss_per_entry"])
                + (f"; used_memory per entry {row['used_per_entry']:.0f}" if used0 is not None else ""))
        finally:
            s.stop()

    def one_system(self, name, workdir):
        if name == "redis":
            s = Redis(name, 0, workdir)
        elif name == "redis-3":
            s = Redis(name, 2, workdir)
        else:
            s = Tricache(name, int(name.split("-")[1]), workdir)
        s.start()
        try:
            prefill(s.resp_port)
            pids = s.pids()
            self.rb(name, s.resp_port, pids)
            if name == "redis-3":
                self.wait_program(name, s.resp_port, pids)
            if name.startswith("tricache"):
                self.native(name, s.servers(), pids)
        finally:
            s.stop()


# ------------------------------------------------------------------ report

def summary(rows, field):
    vals = sorted(r[field] for r in rows)
    return statistics.median(vals), vals[0], vals[-1]


def fmt(rows, field, digits=0):
    med, lo, hi = summary(rows, field)
    if len(rows) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def references(results, mode, tool):
    """The Redis rows a tricache row is compared with: every Redis row of the same mode (single Redis and
    Redis + 2 replicas with redis-benchmark, and the SET-then-WAIT 2 0 row of SET modes). For tricache-bench the
    redis-benchmark rows of the same shape stand in."""
    refs = {}
    for system, rtool, name in (("redis", "redis-benchmark", "redis"), ("redis-3", "redis-benchmark", "redis-3"),
                                ("redis-3", "SET+WAIT 2 0", "redis-3+WAIT")):
        if (system, rtool, mode) in results:
            refs[name] = results[(system, rtool, mode)]
    return refs


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return f"{os.cpu_count()} cores ({model}), {mem_kb / 2**20:.0f} GiB"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def memory_lines(memory_results):
    """The memory table: bytes per entry of each system, and tricache's ratio to Redis's used_memory per key."""
    if not memory_results:
        return []
    redis = memory_results.get("redis")
    ref = redis["used_per_entry"] if redis else None
    lines = ["", f"memory: bytes per entry after setting {next(iter(memory_results.values()))['entries']:,} distinct "
             f"keys (16-byte keys, {VALUE}-byte values) on a fresh system; resident set growth of each process",
             "", "| system | used_memory / entry | resident / entry (each process) | ratio to redis used_memory |",
             "| --- | --- | --- | --- |"]
    for name, row in memory_results.items():
        used = f"{row['used_per_entry']:.0f}" if "used_per_entry" in row else ""
        rss = ", ".join(f"{b:.0f}" for b in row["rss_per_entry"])
        ratio = f"{max(row['rss_per_entry']) / ref:.2f}x (largest process)" if ref and name != "redis" else ""
        lines.append(f"| {name} | {used} | {rss} | {ratio} |")
    return lines


def report(results, args, load_before, load_after, started_at, out_dir, memory_results=None):
    lines = []
    lines.append(f"tricache vs Redis, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started_at))}: "
                 f"{args.reps} repetition(s) of {args.seconds} s per row, medians (min-max)")
    lines.append(f"machine: {machine()}; load average before {load_before}, after {load_after}")
    lines.append(f"values {VALUE} B, key space {KEYS}, everything on 127.0.0.1; tricache's redis-benchmark rows go to "
                 "node 1's Redis endpoint, tricache-bench spreads its connections over every node")
    lines.append("srv us/op: CPU per operation of each server process (each node, each Redis); "
                 "cli us/op: of the load program")
    if args.smoke:
        lines.append("SMOKE RUN (--smoke): every part ran once, briefly; these figures are not measurements")
    busiest = max(float(load_before.split()[0]), float(load_after.split()[0]))
    if busiest >= 1.5:
        lines.append(f"WARNING: load average {busiest} while measuring: the machine was busy, so these figures "
                     "understate both systems")
    lines.append("")
    head = f"| {'mode':<11} | {'system':<10} | {'client':<15} | {'ops/s':<19} | {'p50 us':<17} | {'p99 us':<17} " \
           f"| {'srv us/op':<9} | {'cli us/op':<9} | ratios (ops/s) |"
    lines.append(head)
    lines.append("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    order = {"redis": 0, "redis-3": 1, "tricache-3": 2, "tricache-5": 3}
    for mode in MODE_ORDER:
        keys = sorted((k for k in results if k[2] == mode), key=lambda k: (order.get(k[0], 9), k[1]))
        for k in keys:
            rows = results[k]
            ratios = ""
            if k[0].startswith("tricache"):
                med = summary(rows, "ops")[0]
                ratios = ", ".join(f"{med / summary(r, 'ops')[0]:.2f}x {name}"
                                   for name, r in references(results, mode, k[1]).items())
            lines.append(f"| {mode:<11} | {k[0]:<10} | {k[1]:<15} | {fmt(rows, 'ops'):<19} | {fmt(rows, 'p50'):<17} "
                         f"| {fmt(rows, 'p99'):<17} | {summary(rows, 'srv_us')[0]:<9.1f} "
                         f"| {summary(rows, 'cli_us')[0]:<9.1f} | {ratios} |")
    lines += memory_lines(memory_results or {})
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"throughput": {"|".join(k): v for k, v in results.items()}, "memory": memory_results or {}}, f,
                  indent=1)
    return text


CHART_SERIES = [("redis", "redis-benchmark", "Redis"), ("redis-3", "redis-benchmark", "Redis + 2 replicas"),
                ("redis-3", "SET+WAIT 2 0", "Redis + 2 replicas, WAIT 2 0"),
                ("tricache-3", "redis-benchmark", "tricache 3 nodes (redis-benchmark)"),
                ("tricache-5", "redis-benchmark", "tricache 5 nodes (redis-benchmark)"),
                ("tricache-3", "tricache-bench", "tricache 3 nodes (tricache-bench)"),
                ("tricache-5", "tricache-bench", "tricache 5 nodes (tricache-bench)")]


def chart(results, out_dir, title):
    if shutil.which("gnuplot") is None:
        log("gnuplot not found: no chart (bash scripts/setup --bench)")
        return None
    # Only the series this run measured: gnuplot refuses a column with no point at all.
    series = [s for s in CHART_SERIES if any((s[0], s[1], mode) in results for mode in MODE_ORDER)]
    if not series:  # --reps 0: memory rows only
        return None
    dat = os.path.join(out_dir, "chart.dat")
    with open(dat, "w") as f:
        for field in ("ops", "p50"):
            f.write("mode " + " ".join(f'"{s[2]}"' for s in series) + "\n")  # each block's column titles
            for mode in MODE_ORDER:
                cells = []
                for system, tool, _ in series:
                    rows = results.get((system, tool, mode))
                    cells.append(f"{summary(rows, field)[0]:.0f}" if rows else "NaN")
                f.write(f'"{mode}" ' + " ".join(cells) + "\n")
            f.write("\n\n")
    png = os.path.join(out_dir, "chart.png")
    cols = len(series)
    script = f"""
set terminal pngcairo size 1400,900 font ",10" noenhanced
set output '{png}'
set multiplot layout 2,1 title '{title}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set logscale y
set key inside right top vertical
set xtics nomirror
set ylabel 'operations per second (log)'
plot for [i=2:{cols + 1}] '{dat}' index 0 using i:xtic(1) title columnheader(i)
set ylabel 'p50 latency, microseconds (log)'
unset key
plot for [i=2:{cols + 1}] '{dat}' index 1 using i:xtic(1) title columnheader(i)
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, stderr=subprocess.PIPE)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr)
        return None
    return png


def main():
    global KEYS  # --keys: read by the load programs' command lines and the prefill; one value for the whole run
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="development: 1 repetition of 1 s per row")
    ap.add_argument("--smoke", action="store_true",
                    help="check that every part runs: redis, redis-3 and tricache-3, 1 repetition of 0.3 s per row, "
                         "2,000 keys; its figures mean nothing")
    ap.add_argument("--keys", type=int, default=KEYS, help="key space (prefilled, and redis-benchmark's -r)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of the throughput rows (0: memory rows only)")
    ap.add_argument("--seconds", type=float, default=4.0, help="measured time per row")
    ap.add_argument("--warmup", type=float, default=0.5, help="unmeasured lead-in of the load programs")
    ap.add_argument("--systems", default="redis,redis-3,tricache-3,tricache-5")
    ap.add_argument("--memory-keys", type=int, default=1000000,
                    help="entries for the memory rows (redis and each tricache system; 0 skips them)")
    ap.add_argument("--out", default=os.path.join(ROOT, "run", "bench"), help="where table, json and chart go")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.seconds, args.warmup = 1, 1.0, 0.2
    if args.smoke:
        args.reps, args.seconds, args.warmup, args.keys = 1, 0.3, 0.1, 2000
        if args.memory_keys == ap.get_default("memory_keys"):
            args.memory_keys = 20000
        if args.systems == ap.get_default("systems"):
            args.systems = "redis,redis-3,tricache-3"
        if args.out == ap.get_default("out"):
            args.out = os.path.join(ROOT, "run", "bench-smoke")
    KEYS = args.keys
    systems = [s for s in args.systems.split(",") if s]
    for s in systems:
        if s not in ("redis", "redis-3") and not re.fullmatch(r"tricache-\d+", s):
            ap.error(f"unknown system {s}")
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    os.makedirs(args.out, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="tricache-bench-")
    runner = Runner(args)
    started_at = time.time()
    load_before = loadavg()
    try:
        for rep in range(args.reps):
            for system in systems:
                log(f"rep {rep + 1}/{args.reps}: {system}")
                runner.one_system(system, workdir)
        if args.memory_keys > 0:
            for system in systems:
                if system != "redis-3":  # each of its processes holds what single Redis does
                    log(f"memory: {system}")
                    runner.memory(system, workdir)
    finally:
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = loadavg()
    text = report(runner.results, args, load_before, load_after, started_at, args.out, runner.memory_results)
    print(text)
    title = text.splitlines()[0] + "; load " + load_before + " -> " + load_after
    if args.smoke:
        title += "; SMOKE RUN, not measurements"
    elif any(line.startswith("WARNING: load average") for line in text.splitlines()):
        title += "; BUSY MACHINE"
    png = chart(runner.results, args.out, title)
    print(f"table, results.json{' and chart.png' if png else ''} in {args.out}")


if __name__ == "__main__":
    main()
