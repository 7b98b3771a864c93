#!/usr/bin/env python3
"""Runs every case of issue #5's target table against partyhost, the bare
tokio server and PartyKit's dev server, alternating servers within each case,
and writes the table into BENCHMARKS.md between its compare markers.

Usage (from the repository root, after the build in bench/README.md):
    python3 bench/compare.py [--quick] [--only CASE,...] [--no-write]

Each run gets a fresh server process and fresh storage. Raw reports go to
bench/results/<case>-<server>-<round>.json (ignored by git). Each case runs --rounds
times (3), the servers alternating within a round; the table shows medians.
"""

import argparse
import datetime
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "target/release/partyhost-bench"
PARTYHOST = ROOT / "target/release/partyhost"
BARE = ROOT / "target/release/partyhost-bench-bare"
PARTYKIT_DIR = ROOT / "bench/servers/partykit"
RESULTS = ROOT / "bench/results"
SERVERS = ["partyhost", "bare", "partykit"]
URL = "ws://127.0.0.1:{port}/parties/main/{{room}}?_pk={{id}}"

# name, what is measured, load options, metric path, better, target
CASES = [
    ("fanout", "deliveries/s, 1 room, 1,000 connections, burst (10 senders × 100)",
     "--rooms 1 --connections 1000 --senders 10 --reactions 100",
     ("deliveries", "per_second"), "higher",
     "≥ 30× PartyKit dev and ≥ 0.8× bare"),
    ("reactions", "reactions/s, 100 connections × 50 reactions each",
     "--rooms 1 --connections 100 --senders 100 --reactions 50",
     ("reactions", "per_second"), "higher", "≥ 30× PartyKit dev"),
    ("idle", "idle KiB per connection, 15,000 connections, held 12 s",
     "--rooms 1 --connections 15000 --senders 0 --hold 12 --source-ips 4 --workers 2",
     ("server", "kib_per_connection"), "lower", "≤ 8 KiB"),
    ("connect", "connections/s into one room (5,000)",
     "--rooms 1 --connections 5000 --senders 0 --connect-concurrency 512",
     ("connect", "per_second"), "higher", "≥ 10,000/s"),
    ("rooms", "seconds until 1,000 rooms × 5 connections connected and 1 reaction each confirmed",
     "--rooms 1000 --connections 5 --senders 5 --reactions 1",
     ("connect_to_last_delivery_seconds",), "lower", "≤ 2 s"),
    ("paced", "p99 ms send → own increment, 10 reactions/s, 1,000-connection room",
     "--rooms 1 --connections 1000 --senders 1 --reactions 100 --rate 10 --senders-apart",
     ("latency_ms", "p99"), "lower", "≤ 5 ms"),
    ("durable", "durable reactions/s, one room (10 connections × 2,000)",
     "--rooms 1 --connections 10 --senders 10 --reactions 2000",
     ("reactions", "per_second"), "higher", "≥ 20,000/s"),
]
QUICK = {"--connections 1000": "--connections 100", "--connections 15000": "--connections 500",
         "--hold 12": "--hold 1", "--connections 5000": "--connections 500",
         "--rooms 1000": "--rooms 50", "--reactions 100 --rate 10": "--reactions 10 --rate 10",
         "--reactions 2000": "--reactions 100"}


def free_port():
    """A port below the ephemeral range: the load generator's own sockets of
    the previous run (TIME_WAIT) hold ephemeral ports, and workerd refuses
    to listen on one of those."""
    low, _ = (int(p) for p in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for port in random.sample(range(max(1024, low - 12000), low), 200):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def wait_port(port, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not listen on {port} within {seconds} s")


def listener_pid(port):
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    found = re.findall(r"pid=(\d+)", out)
    return [int(p) for p in dict.fromkeys(found)]


class Server:
    """One fresh server process for one run."""

    def __init__(self, kind):
        self.kind = kind
        self.port = free_port()
        self.data = tempfile.TemporaryDirectory(prefix=f"bench-{kind}-")
        self.proc = None

    def __enter__(self):
        log = open(Path(self.data.name) / "server.log", "w")
        if self.kind == "partyhost":
            config = Path(self.data.name) / "partyhost.toml"
            config.write_text('[parties.main]\ncomponent = "builtin:reaction"\n')
            cmd = [str(PARTYHOST), "serve", "--listen", f"127.0.0.1:{self.port}",
                   "--config", str(config), "--data", str(Path(self.data.name) / "data")]
            env = dict(os.environ, RUST_LOG="warn")
        elif self.kind == "bare":
            cmd = [str(BARE), "--listen", f"127.0.0.1:{self.port}"]
            env = os.environ
        else:
            cmd = ["npx", "partykit", "dev", "--port", str(self.port), "--persist",
                   str(Path(self.data.name) / "state"), "--disable-request-cf-fetch", "--no-hotkeys"]
            env = os.environ
        cwd = PARTYKIT_DIR if self.kind == "partykit" else ROOT
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_port(self.port, 120 if self.kind == "partykit" else 60)
        except RuntimeError:
            tail = (Path(self.data.name) / "server.log").read_text()[-400:]
            self.__exit__()
            raise RuntimeError(f"{self.kind} did not listen on {self.port}: {tail}")
        self.pids = listener_pid(self.port)
        if self.kind == "partykit":
            # workerd serves the sockets; the node parent (miniflare) is
            # counted too, since a user runs both.
            self.pids += [p for p in node_parents(self.pids) if p not in self.pids]
        return self

    def __exit__(self, *exc):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.data.cleanup()


def node_parents(pids):
    parents = []
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if "node" in Path(f"/proc/{ppid}/comm").read_text():
            parents.append(ppid)
    return parents


def run_case(name, options, server_kind, timeout, round_no):
    """Runs one case against a fresh server; a server that fails to start
    twice gives an incomplete report instead of ending the comparison."""
    for attempt in range(2):
        try:
            return run_case_once(name, options, server_kind, timeout, round_no)
        except RuntimeError as error:
            failure = str(error)
            print(f"   {failure}", file=sys.stderr, flush=True)
            time.sleep(10)
    return {"complete": False, "errors": [failure]}


def run_case_once(name, options, server_kind, timeout, round_no):
    with Server(server_kind) as server:
        cmd = [str(BENCH), "load", "--url", URL.format(port=server.port), "--label", server_kind,
               "--timeout", str(timeout)] + options.split()
        for pid in server.pids:
            cmd += ["--server-pid", str(pid)]
        started = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * 4 + 120)
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError:
            report = {"complete": False, "errors": [proc.stderr.strip()[-500:]]}
        report["exit_code"] = proc.returncode
        report["wall_seconds"] = round(time.time() - started, 1)
        report["command"] = "partyhost-bench load --url <server> " + options
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}-{server_kind}-{round_no}.json").write_text(json.dumps(report, indent=2))
        return report


def metric(report, path):
    value = report
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, (int, float)) else None


def wake_p99():
    out = subprocess.run([str(BENCH), "wake", "--rooms", "500"], capture_output=True, text=True,
                         timeout=300)
    report = json.loads(out.stdout)
    return report.get("wake_p99_us"), report.get("wake_p50_us")


def fmt(value, path):
    if value is None:
        return "–"
    if path[-1] in ("p99", "kib_per_connection", "connect_to_last_delivery_seconds"):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def ratio(ph, other, better):
    if not ph or not other:
        return None
    return ph / other if better == "higher" else other / ph


def met(name, values, ratios):
    ph = values.get("partyhost")
    checks = {
        "fanout": lambda: ratios["partykit"] is not None and ratios["partykit"] >= 30
        and ratios["bare"] is not None and ratios["bare"] >= 0.8,
        "reactions": lambda: ratios["partykit"] is not None and ratios["partykit"] >= 30,
        "idle": lambda: ph is not None and ph <= 8,
        "connect": lambda: ph is not None and ph >= 10_000,
        "rooms": lambda: ph is not None and ph <= 2,
        "paced": lambda: ph is not None and ph <= 5,
        "durable": lambda: ph is not None and ph >= 20_000,
    }
    return "**met**" if checks[name]() else "**missed**"


def versions():
    def out(cmd, cwd=ROOT):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd).stdout.strip()
        except OSError:
            return "?"
    pk = json.loads((PARTYKIT_DIR / "node_modules/partykit/package.json").read_text())["version"]
    wd_pkg = PARTYKIT_DIR / "node_modules/workerd/package.json"
    wd = json.loads(wd_pkg.read_text())["version"] if wd_pkg.exists() else "?"
    return {
        "partyhost": out(["git", "rev-parse", "--short", "HEAD"]),
        "rustc": out(["rustc", "--version"]),
        "partykit": pk,
        "workerd": wd,
        "node": out(["node", "--version"]),
        "kernel": out(["uname", "-r"]),
    }


def loadavg():
    return Path("/proc/loadavg").read_text().split()[:3]


def table(rows, meta):
    lines = [
        "<!-- compare:begin (written by bench/compare.py; edit the script, not this) -->",
        f"Run {meta['started']} to {meta['finished']} UTC. Load average (1, 5, 15 min): "
        f"{' '.join(meta['load_start'])} at the start, {' '.join(meta['load_end'])} at the end; "
        "the 1-minute load after each run is in the last column (partyhost / bare / PartyKit).",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
        "",
        "| case | partyhost | bare tokio | PartyKit dev | partyhost vs PartyKit | "
        "partyhost vs bare | target | | load after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(row)
    lines += [
        "",
        "Each cell is the median of the case's rounds (the servers alternate within a round),",
        "with the lowest and highest in brackets; the idle case runs once. Ratios (of the",
        "medians) are how many times better partyhost is (higher rate, or lower time, memory",
        "or latency); below 1 it is worse. An *incomplete* run lost deliveries or connections",
        "and its figure does not count. Commands (each against a fresh server on a free",
        "port; `<url>` is `ws://127.0.0.1:PORT/parties/main/{room}?_pk={id}`):",
        "",
    ]
    for name, _, options, *_ in CASES:
        lines.append(f"- {name}: `target/release/partyhost-bench load --url <url> {options}`")
    lines.append("- wake: `target/release/partyhost-bench wake --rooms 500` (partyhost only: "
                 "it is the host's own instantiate + start time)")
    lines.append("")
    lines.append("Whole run: `python3 bench/compare.py`; raw reports in `bench/results/`.")
    lines.append("<!-- compare:end -->")
    return "\n".join(lines)


def case_row(name, title, path, better, target, reports):
    """One table row from each server's rounds: the median of the rounds,
    with the lowest and highest; any incomplete round marks the cell."""
    values, cells = {}, {}
    for kind in SERVERS:
        runs = reports[kind]
        measured = sorted(v for v in (metric(r, path) for r in runs) if v is not None)
        complete = all(r.get("complete") for r in runs) and len(measured) == len(runs)
        value = statistics.median(measured) if measured else None
        values[kind] = value if complete else None
        cell = fmt(value, path)
        if len(measured) > 1:
            cell += f" ({fmt(measured[0], path)}–{fmt(measured[-1], path)})"
        cells[kind] = cell if complete else f"*incomplete* ({cell})"
    ratios = {k: ratio(values["partyhost"], values[k], better) for k in ("partykit", "bare")}
    shown = {k: "–" if r is None else f"{r:,.2f}×" for k, r in ratios.items()}
    loads = " / ".join(str((reports[k][-1].get("load_average") or {}).get("after", ["?"])[0])
                       for k in SERVERS)
    return (f"| {title} | {cells['partyhost']} | {cells['bare']} | {cells['partykit']} | "
            f"{shown['partykit']} | {shown['bare']} | {target} | {met(name, values, ratios)} "
            f"| {loads} |")


def write_benchmarks(text):
    path = ROOT / "BENCHMARKS.md"
    current = path.read_text()
    pattern = re.compile(r"<!-- compare:begin.*?<!-- compare:end -->", re.S)
    if pattern.search(current):
        current = pattern.sub(lambda _: text, current)
    else:
        current = current.rstrip() + "\n\n## Side by side: partyhost, bare tokio, PartyKit dev\n\n" \
            + text + "\n"
    path.write_text(current)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--timeout", type=float, default=120, help="per-client timeout, s")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of each case (servers alternate within a round); the "
                             "table shows the median (the idle case runs once)")
    args = parser.parse_args()
    for binary in (BENCH, PARTYHOST, BARE):
        if not binary.exists():
            sys.exit(f"missing {binary}: build first (see bench/README.md)")
    if not (PARTYKIT_DIR / "node_modules/.bin/partykit").exists():
        sys.exit("PartyKit is not installed: (cd bench/servers/partykit && npm ci)")

    meta = {"started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
            "load_start": loadavg(), "versions": versions()}
    only = set(args.only.split(",")) if args.only else None
    rows = []
    for name, title, options, path, better, target in CASES:
        if only and name not in only:
            continue
        if args.quick:
            for big, small in QUICK.items():
                options = options.replace(big, small)
        reports = {kind: [] for kind in SERVERS}
        rounds = 1 if name == "idle" else max(1, args.rounds)
        for round_no in range(1, rounds + 1):
            for kind in SERVERS:
                print(f"== {name} on {kind}, round {round_no}: {options}", file=sys.stderr,
                      flush=True)
                report = run_case(name, options, kind, args.timeout, round_no)
                reports[kind].append(report)
                print(f"   {metric(report, path)} complete={report.get('complete')}",
                      file=sys.stderr, flush=True)
        rows.append(case_row(name, title, path, better, target, reports))
    if not only or "wake" in only:
        p99, p50 = wake_p99()
        ok = "**met**" if p99 is not None and p99 <= 1000 else "**missed**"
        rows.append(f"| room wake p99 µs (p50 {p50}), 500 rooms | {p99} | n/a | n/a | – | – "
                    f"| ≤ 1,000 µs | {ok} | {loadavg()[0]} |")
    meta["finished"] = datetime.datetime.now(datetime.UTC).strftime("%H:%M")
    meta["load_end"] = loadavg()
    text = table(rows, meta)
    print(text)
    if not args.no_write:
        write_benchmarks(text)


if __name__ == "__main__":
    main()
