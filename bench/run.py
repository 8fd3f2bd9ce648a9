#!/usr/bin/env python3
"""Mailwire's benchmark harness (standard library only); scripts/bench.sh drives it.

  run.py overhead ...   whole-process `mailwire check` vs the official Python libraries
  run.py desktop ...    start to first paint and memory of the app's process tree vs a bare window
  run.py scale ...      `mailwire check --profile --senders` with injected latency and 429s
  run.py report ...     one summary (JSON and Markdown) from the results and criterion's estimates

Every measurement is wall-clock time around a real child process (time.perf_counter), the
competitors interleaved round by round so that drift on a shared machine hits both alike.
Medians are reported with the interquartile range. Nothing here asserts a time.
"""

import argparse
import atexit
import json
import os
import random
import resource
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# helpers


_scratch = []


def scratch_dir(prefix):
    """A temporary directory removed when the harness exits."""
    path = tempfile.mkdtemp(prefix=f"mailwire-bench-{prefix}-")
    _scratch.append(path)
    return path


atexit.register(lambda: [shutil.rmtree(path, ignore_errors=True) for path in _scratch])


def log(message):
    print(f"    {message}", file=sys.stderr, flush=True)


def stats(samples):
    samples = sorted(samples)
    n = len(samples)
    if n == 0:
        return {"n": 0}
    q = statistics.quantiles(samples, n=4) if n >= 2 else [samples[0]] * 3
    return {
        "n": n,
        "median": statistics.median(samples),
        "p25": q[0],
        "p75": q[2],
        "min": samples[0],
        "max": samples[-1],
    }


def save(path, data):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


class Emulator:
    """`mailwire-emulator serve` as a child process; its base URL is the first stdout line."""

    def __init__(self, binary, tls=False, scenario=None):
        self.dir = scratch_dir("emu")
        args = [binary, "serve", "--addr", "127.0.0.1:0", "--out", self.dir]
        if tls:
            args.append("--tls")
        if scenario:
            args += ["--scenario", scenario]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("http"):
            self.process.kill()
            raise SystemExit(f"the emulator did not start: {line!r} {self.process.stderr.read()}")
        self.base = line
        self.ca = os.path.join(self.dir, "ca.pem") if tls else None
        self.context = ssl.create_default_context(cafile=self.ca) if tls else None

    def facts(self, name):
        return json.loads(Path(self.dir, name).read_text())

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else None

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def timed_run(args, env):
    """Runs one process to completion; returns (seconds, exit status, stdout)."""
    started = time.perf_counter()
    done = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    return elapsed, done.returncode, done.stdout, done.stderr


def base_env():
    env = dict(os.environ)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(name, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


# ---------------------------------------------------------------------------------------------
# 1. check overhead: whole processes, Mailwire vs the official Python libraries


def overhead(args):
    emu = Emulator(args.emulator, tls=True)
    try:
        ms = emu.facts("microsoft.json")
        g = emu.facts("google.json")
        key_file = os.path.join(emu.dir, "google-key.json")
        config = scratch_dir("config")
        env = base_env()
        env.pop("CURL_CA_BUNDLE", None)
        env["REQUESTS_CA_BUNDLE"] = emu.ca
        env["MAILWIRE_CONFIG_DIR"] = config
        env["MAILWIRE_MS_AUTHORITY_HOST"] = ms["authority_host"]
        env["MAILWIRE_GRAPH_URL"] = ms["graph_url"]
        env["MAILWIRE_GMAIL_URL"] = g["gmail_url"]
        env["MAILWIRE_CLIENT_SECRET"] = ms["client_secret"]
        mailwire = [args.mailwire, "--ca-file", emu.ca, "check"]
        here = Path(__file__).resolve().parent
        cases = {
            "mailwire_google": mailwire
            + ["google", "--key-file", key_file, "--sender", g["sender"], "--to", g["recipient"], "--json"],
            "python_google": [args.python, str(here / "py" / "google_check.py"), emu.dir, g["recipient"]],
            "mailwire_microsoft": mailwire
            + ["microsoft", "--tenant", ms["tenant_id"], "--client-id", ms["client_id"], "--sender", ms["sender"],
               "--to", ms["recipient"], "--json"],
            "python_microsoft": [args.python, str(here / "py" / "microsoft_check.py"), emu.dir, ms["recipient"]],
            # What starting any process costs this harness, for scale.
            "spawn_floor": ["/bin/true"],
        }
        samples = {name: [] for name in cases}
        failures = {name: 0 for name in cases}

        def once(name):
            elapsed, code, out, err = timed_run(cases[name], env)
            ok = code == 0 and (name == "spawn_floor" or json.loads(out or "{}").get("ok") is True)
            if not ok:
                failures[name] += 1
                log(f"{name} failed (exit {code}): {(out + err)[-400:]}")
            return elapsed, ok

        for name in cases:  # warm the page cache and Python's bytecode cache; not counted
            for _ in range(args.warmup):
                once(name)
        names = list(cases)
        for round_ in range(args.runs):
            random.shuffle(names)
            for name in names:
                elapsed, ok = once(name)
                if ok:
                    samples[name].append(elapsed * 1000)
            emu.admin("DELETE", "/_emulator/outbox")
        result = {name: stats(values) for name, values in samples.items()}
        for name in result:
            result[name]["failures"] = failures[name]
        for provider in ("google", "microsoft"):
            mw, py = result[f"mailwire_{provider}"], result[f"python_{provider}"]
            if mw.get("n") and py.get("n"):
                result[f"ratio_{provider}"] = py["median"] / mw["median"]
        result["unit"] = "ms per process, wall clock"
        result["tls"] = True
        save(args.out, result)
        for provider in ("google", "microsoft"):
            mw, py = result[f"mailwire_{provider}"], result[f"python_{provider}"]
            log(f"{provider}: mailwire {mw.get('median', 0):.1f} ms, python {py.get('median', 0):.1f} ms, "
                f"ratio {result.get('ratio_' + provider, 0):.1f}x")
        if any(failures.values()):
            raise SystemExit(f"some runs failed: {failures}")
    finally:
        emu.stop()


# ---------------------------------------------------------------------------------------------
# 3. desktop: start to first paint, and memory of the whole process tree


def children_map():
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    return parents


def tree(root):
    parents = children_map()
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(parents.get(pid, []))
    return found


def memory_kib(pid):
    """(VmRSS, Pss) in KiB, or None when the process is gone."""
    try:
        rss = next(int(l.split()[1]) for l in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None
    try:
        pss = next(int(l.split()[1]) for l in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                   if l.startswith("Pss:"))
    except (OSError, StopIteration):
        pss = 0
    return rss, pss


def comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def launch_until_painted(binary, env, settle, timeout=60.0):
    paint_file = os.path.join(scratch_dir("paint"), "first-paint")
    env = dict(env, MAILWIRE_FIRST_PAINT_FILE=paint_file)
    started = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    painted = None
    while time.perf_counter() - started < timeout:
        if os.path.exists(paint_file) and os.path.getsize(paint_file) > 0:
            painted = time.perf_counter()
            break
        if process.poll() is not None:
            break
        time.sleep(0.002)
    result = {"ok": painted is not None}
    if painted is not None:
        result["start_ms"] = (painted - started) * 1000
        try:
            result["page_ms"] = float(Path(paint_file).read_text().strip())
        except ValueError:
            pass
        time.sleep(settle)
        pids = tree(process.pid)
        rss = pss = 0
        names = []
        for pid in pids:
            mem = memory_kib(pid)
            if mem:
                rss += mem[0]
                pss += mem[1]
                names.append(comm(pid))
        result.update(rss_mib=rss / 1024, pss_mib=pss / 1024, processes=names)
    else:
        result["error"] = (process.stderr.read() if process.poll() is not None else "no paint")[-600:]
    # Stop the app and everything it started: it leads its own process group (start_new_session
    # above), so the group is exactly what this launch started, WebKit's helpers included.
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline:  # helpers may outlive the main process briefly
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()
    if os.path.exists(paint_file):
        os.unlink(paint_file)
    return result


def desktop(args):
    base = base_env()
    apps = {"mailwire": args.app, "bare": args.bare}
    samples = {name: {"start_ms": [], "page_ms": [], "rss_mib": [], "pss_mib": []} for name in apps}
    processes = {}
    failures = {name: 0 for name in apps}

    def env_for(name):
        env = dict(base)
        if name == "mailwire":
            scratch = scratch_dir("app")
            env.update(MAILWIRE_CONFIG_DIR=os.path.join(scratch, "config"),
                       MAILWIRE_LOG_DIR=os.path.join(scratch, "logs"),
                       MAILWIRE_KEYCHAIN_SERVICE=f"mailwire-bench-{os.getpid()}")
        return env

    order = list(apps)
    for round_ in range(args.warmup + args.runs):
        order.reverse()  # ABBA: neither always goes first
        for name in order:
            result = launch_until_painted(apps[name], env_for(name), args.settle)
            if round_ < args.warmup:
                continue
            if not result["ok"]:
                failures[name] += 1
                log(f"{name} did not paint: {result.get('error', '')}")
                continue
            for key in samples[name]:
                if key in result:
                    samples[name][key].append(result[key])
            processes[name] = result["processes"]
    out = {}
    for name in apps:
        out[name] = {key: stats(values) for key, values in samples[name].items()}
        out[name]["failures"] = failures[name]
        out[name]["processes"] = processes.get(name, [])
    if out["mailwire"]["start_ms"].get("n") and out["bare"]["start_ms"].get("n"):
        for key in ("start_ms", "page_ms", "rss_mib", "pss_mib"):
            if out["bare"][key].get("median"):
                out[f"ratio_{key}"] = out["mailwire"][key]["median"] / out["bare"][key]["median"]
    out["settle_s"] = args.settle
    save(args.out, out)
    for name in apps:
        s = out[name]
        log(f"{name}: start {s['start_ms'].get('median', 0):.0f} ms, RSS {s['rss_mib'].get('median', 0):.0f} MiB "
            f"({len(s['processes'])} processes)")
    if any(failures.values()):
        raise SystemExit(f"some launches did not paint: {failures}")


# ---------------------------------------------------------------------------------------------
# 4. scale: many senders through one saved connection


def scale(args):
    sandbox = json.loads(subprocess.run([args.emulator, "sandbox"], check=True, stdout=subprocess.PIPE).stdout)
    work = scratch_dir("scale")
    count = args.senders
    if args.provider == "microsoft":
        tenant = sandbox["microsoft"]["tenants"][0]
        domain = tenant["domains"][0]
        senders = [f"bench{n:05d}@{domain}" for n in range(count)]
        tenant["mailboxes"] += [{"address": a, "state": "enabled"} for a in senders]
        route = "graph_send_mail"
    else:
        domain = sandbox["google"]["domains"][0]
        senders = [f"bench{n:05d}@{domain}" for n in range(count)]
        sandbox["google"]["users"] += [{"address": a, "gmail_enabled": True} for a in senders]
        route = "gmail_send"
    scenario = os.path.join(work, "scenario.json")
    Path(scenario).write_text(json.dumps(sandbox))
    emu = Emulator(args.emulator, scenario=scenario)
    try:
        env = base_env()
        env["MAILWIRE_CONFIG_DIR"] = os.path.join(work, "config")
        env["MAILWIRE_KEYCHAIN_SERVICE"] = f"mailwire-bench-{os.getpid()}"
        if args.provider == "microsoft":
            ms = emu.facts("microsoft.json")
            env.update(MAILWIRE_MS_AUTHORITY_HOST=emu.base, MAILWIRE_GRAPH_URL=emu.base,
                       MAILWIRE_CLIENT_SECRET=ms["client_secret"])
            add = ["microsoft", "--name", "Bench", "--tenant", ms["tenant_id"], "--client-id", ms["client_id"],
                   "--sender", ms["sender"]]
            recipient = ms["recipient"]
        else:
            g = emu.facts("google.json")
            env.update(MAILWIRE_GOOGLE_TOKEN_URL=g["token_url"], MAILWIRE_GMAIL_URL=emu.base)
            add = ["google", "--name", "Bench", "--key-file", os.path.join(emu.dir, "google-key.json"),
                   "--sender", g["sender"]]
            recipient = g["recipient"]
        done = subprocess.run([args.mailwire, "profile", "add", *add], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            raise SystemExit(f"mailwire profile add failed: {done.stdout}")

        cpu = []

        def run(names, concurrency, throttle=None):
            path = os.path.join(work, f"senders-{len(names)}.txt")
            Path(path).write_text("\n".join(names) + "\n")
            command = [args.mailwire, "check", "--profile", "Bench", "--senders", path, "--to", recipient,
                       "--concurrency", str(concurrency), "--json"]
            emu_cpu = emu.cpu_seconds()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if throttle:
                # Throttling starts under load, as a provider's does: once a third of the sends
                # have arrived, the next `count` sends get 429 with Retry-After.
                while process.poll() is None:
                    if emu.admin("GET", "/_emulator/requests").get(route, 0) >= throttle["after"]:
                        emu.admin("POST", "/_emulator/faults", {"route": route, "fault": {
                            "latency_ms": args.latency_ms,
                            "throttle": {"count": throttle["count"], "retry_after_secs": throttle["retry_after"]}}})
                        break
                    time.sleep(0.01)
            out, err = process.communicate()
            elapsed, code = time.perf_counter() - started, process.returncode
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append({
                "client_cpu_s": (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime),
                "emulator_cpu_s": emu.cpu_seconds() - emu_cpu,
            })
            reports = json.loads(out) if out.strip().startswith("[") else []
            passed = sum(1 for r in reports if r.get("ok"))
            if code != 0 or passed != len(names):
                log(f"{len(names)} senders: exit {code}, {passed} passed; {err[-400:]}")
            return elapsed, passed

        # The sequential time per sender with the same latency and no 429s: the slope between a
        # short and a longer run at concurrency 1 (process start and the shared token cancel out).
        emu.admin("POST", "/_emulator/faults", {"route": route, "fault": {"latency_ms": args.latency_ms}})
        short, long_ = args.calibrate
        slopes = []
        for _ in range(args.calibration_runs):
            t_short, _ = run(senders[:short], 1)
            t_long, _ = run(senders[:long_], 1)
            slopes.append((t_long - t_short) / (long_ - short))
        per_sender = statistics.median(slopes)

        walls, passed_all = [], []
        counts, outbox, throttled = [], [], []
        cpu.clear()
        for _ in range(args.runs):
            emu.admin("DELETE", "/_emulator/outbox")
            emu.admin("DELETE", "/_emulator/requests")
            emu.admin("POST", "/_emulator/faults", {"route": route, "fault": {"latency_ms": args.latency_ms}})
            throttle = {"after": count // 3, "count": args.throttle, "retry_after": args.retry_after}
            wall, passed = run(senders, args.concurrency, throttle if args.throttle else None)
            walls.append(wall)
            passed_all.append(passed)
            counts.append(emu.admin("GET", "/_emulator/requests"))
            outbox.append(len(emu.admin("GET", "/_emulator/outbox")))
            left = emu.admin("GET", "/_emulator/faults").get(route, {}).get("throttle") or {}
            throttled.append(args.throttle - left.get("count", 0))
        wall = statistics.median(walls)
        ideal = count * per_sender / args.concurrency
        ideal_with_429 = (count * per_sender + args.throttle * args.retry_after) / args.concurrency
        result = {
            "provider": args.provider,
            "senders": count,
            "concurrency": args.concurrency,
            "latency_ms": args.latency_ms,
            "throttled_per_run": args.throttle,
            "retry_after_s": args.retry_after,
            "per_sender_sequential_ms": per_sender * 1000,
            "calibration_slopes_ms": [s * 1000 for s in slopes],
            "wall_s": wall,
            "walls_s": walls,
            "passed": passed_all,
            "ideal_s": ideal,
            "ratio": wall / ideal,
            "ideal_with_429_s": ideal_with_429,
            "ratio_with_429": wall / ideal_with_429,
            "requests_per_run": counts,
            "outbox_per_run": outbox,
            "throttled_per_run_served": throttled,
            "cpu_per_run": cpu,
            "cores": os.cpu_count(),
        }
        save(args.out, result)
        log(f"{args.provider} x{count}: {wall:.2f} s, ideal {ideal:.2f} s ({result['ratio']:.2f}x), "
            f"per sender {per_sender * 1000:.1f} ms sequential, {sum(passed_all)}/{count * args.runs} passed")
        sends = [c.get(route, 0) for c in counts]
        if any(p != count for p in passed_all) or any(n != count for n in outbox):
            raise SystemExit(f"not every sender passed: {passed_all}, outbox {outbox}, sends {sends}")
    finally:
        emu.stop()


# ---------------------------------------------------------------------------------------------
# report


def criterion_medians(root):
    out = {}
    for estimates in Path(root).glob("*/*/new/estimates.json"):
        group, name = estimates.parts[-4], estimates.parts[-3]
        data = json.loads(estimates.read_text())
        out[f"{group}/{name}"] = data["median"]["point_estimate"] / 1e6  # ms
    return out


def report(args):
    results = Path(args.results)
    summary = {}
    for path in sorted(results.glob("*.json")):
        if path.name != "summary.json":
            summary[path.stem] = json.loads(path.read_text())
    floor = criterion_medians(args.criterion) if args.criterion and Path(args.criterion).exists() else {}
    if floor:
        summary["floor_ms"] = floor
        for provider in ("microsoft", "google"):
            check, emu = floor.get(f"check/{provider}"), floor.get(f"emulator_only/{provider}")
            if check is not None and emu is not None:
                summary.setdefault("client_overhead_ms", {})[provider] = check - emu
    save(results / "summary.json", summary)
    lines = ["", "Mailwire benchmarks" + (" (quick mode: few iterations, numbers are indicative only)" if args.quick else ""), ""]
    o = summary.get("overhead")
    if o:
        lines.append("1. Check overhead, whole processes against the emulator over TLS (median ms, IQR)")
        for provider in ("google", "microsoft"):
            mw, py = o[f"mailwire_{provider}"], o[f"python_{provider}"]
            if mw.get("n") and py.get("n"):
                lines.append(f"   {provider:10} mailwire {mw['median']:7.1f} ({mw['p25']:.1f}-{mw['p75']:.1f})   "
                             f"python {py['median']:7.1f} ({py['p25']:.1f}-{py['p75']:.1f})   "
                             f"ratio {o[f'ratio_{provider}']:.1f}x  (goal >= 10x)")
        if o.get("spawn_floor", {}).get("n"):
            lines.append(f"   process spawn floor (/bin/true): {o['spawn_floor']['median']:.1f} ms")
    if floor:
        lines.append("2. Floor: in-process check vs the emulator's own service time (criterion medians, ms)")
        for provider in ("microsoft", "google"):
            c, e = floor.get(f"check/{provider}"), floor.get(f"emulator_only/{provider}")
            if c is not None and e is not None:
                lines.append(f"   {provider:10} check {c:7.3f}  emulator only {e:7.3f}  client overhead {c - e:7.3f}  (goal < 2)")
        for name, value in sorted(floor.items()):
            if name.startswith("micro/"):
                lines.append(f"   {name:32} {value * 1000:9.1f} µs")
    d = summary.get("desktop")
    if d and d["mailwire"]["start_ms"].get("n") and d["bare"]["start_ms"].get("n"):
        lines.append("3. Desktop under Xvfb (median; ratio = Mailwire / bare Tauri window)")
        for key, label, goal in (("start_ms", "start to first paint (ms)", "<= 1.3x"),
                                 ("page_ms", "page performance.now() at paint (ms)", ""),
                                 ("rss_mib", "RSS, whole process tree (MiB)", "<= 1.2x"),
                                 ("pss_mib", "PSS, whole process tree (MiB)", "")):
            lines.append(f"   {label:38} mailwire {d['mailwire'][key]['median']:7.1f}  bare {d['bare'][key]['median']:7.1f}  "
                         f"ratio {d.get('ratio_' + key, 0):.2f}x {('(goal ' + goal + ')') if goal else ''}")
        lines.append(f"   processes: mailwire {', '.join(d['mailwire']['processes'])}; bare {', '.join(d['bare']['processes'])}")
    sizes = summary.get("sizes")
    if sizes:
        lines.append("   sizes: " + ", ".join(f"{k} {v / 1e6:.1f} MB ({v / 2**20:.1f} MiB)" for k, v in sizes.items()))
    for name in ("scale_microsoft", "scale_google"):
        s = summary.get(name)
        if s:
            lines.append(f"4. Scale, {s['provider']}: {s['senders']} senders, concurrency {s['concurrency']}, "
                         f"{s['latency_ms']} ms on the send route, {s['throttled_per_run']} x 429 (Retry-After {s['retry_after_s']} s)")
            lines.append(f"   wall {s['wall_s']:.2f} s; ideal {s['ideal_s']:.2f} s -> {s['ratio']:.2f}x (goal <= 1.3x); "
                         f"with the 429 waits {s['ideal_with_429_s']:.2f} s -> {s['ratio_with_429']:.2f}x; "
                         f"sequential per sender {s['per_sender_sequential_ms']:.1f} ms; passed {s['passed']}")
            if s.get("cpu_per_run"):
                client = statistics.median(c["client_cpu_s"] for c in s["cpu_per_run"])
                emulator = statistics.median(c["emulator_cpu_s"] for c in s["cpu_per_run"])
                lines.append(f"   CPU per run: mailwire {client:.2f} s, emulator {emulator:.2f} s "
                             f"({s.get('cores')} cores; wall {s['wall_s']:.2f} s)")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("overhead")
    p.add_argument("--mailwire", required=True)
    p.add_argument("--emulator", required=True)
    p.add_argument("--python", required=True)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--out", required=True)
    p = sub.add_parser("desktop")
    p.add_argument("--app", required=True)
    p.add_argument("--bare", required=True)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--settle", type=float, default=1.0, help="seconds after the paint before memory is read")
    p.add_argument("--out", required=True)
    p = sub.add_parser("scale")
    p.add_argument("--mailwire", required=True)
    p.add_argument("--emulator", required=True)
    p.add_argument("--provider", choices=["microsoft", "google"], default="microsoft")
    p.add_argument("--senders", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--latency-ms", type=int, default=50)
    p.add_argument("--throttle", type=int, default=8, help="429s injected per run")
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--calibrate", type=int, nargs=2, default=[5, 45], metavar=("SHORT", "LONG"))
    p.add_argument("--calibration-runs", type=int, default=3)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", required=True)
    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--criterion")
    p.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    {"overhead": overhead, "desktop": desktop, "scale": scale, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
