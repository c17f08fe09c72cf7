#!/usr/bin/env python3
"""bench/federation: routing through real gateways on loopback (issue 10's latency and overhead).

A requester cluster "home" and three provider clusters "p1", "p2", "p3", each its own directory,
SQLite ledger, Ed25519 cluster key, CA and TLS certificate (made here with the openssl command
line, P-256, as tests/support/test_pki does), rfarm.yaml with a federation section. Each provider
runs a real `rfarm serve` (mutual TLS, signed envelopes) on a loopback port; home routes to them
with `rfarm submit --clusters`. Everything is a separate process, as in production: each `rfarm`
command pays its own start-up, config load, TLS handshakes and signatures.

1. Quote-and-place latency of a 240-frame job (the demo scene at the demo's 480x270, 32 spp,
   chunks of 2 = 120 chunks), wall time of each command, medians of --runs runs, interleaved:
     local_test_only   `rfarm submit --test-only` on home (start-up + config + plan, no network)
     routed_test_only  `rfarm submit --clusters any --test-only` (the same + 3 quotes, one after
                       the other, each a new mTLS connection and a signed request/response)
     routed_submit     `rfarm submit --clusters any`: quotes, choice, scene bundle, home's job
                       store and escrow hold, the order (POST /v1/submit: the provider checks its
                       signed quote, unpacks the bundle, plans, stores and holds): "queued on the
                       peer" is when the command returns
     local_submit      `rfarm submit` of the same job on home's local backend until it prints
                       "Submitted rfarm job" (plan, store 240 frame rows, hold: queued here)
   Parts: quote round = routed_test_only - local_test_only; order = routed_submit - routed_test_only.
   The providers' gateway logs give each request's server-side time (`ms=`, TLS handshake not
   included) and the order's size (`in=`). After each placement the chosen provider's gateway is
   killed with its chunk processes (its process group) and restarted on a fresh state directory,
   so 120 placed chunks never render and load the machine.
2. Federation overhead on the demo job (scripts/demo.sh's: frames 1-6, chunks of 2, 480x270,
   32 spp, max depth 4, tile 32, one thread per chunk as the provider runs them), no verifier on
   either side (providers do not run one on peer jobs yet), --overhead-runs pairs interleaved:
     local   `rfarm submit` on home: render, commit, settle (wall)
     routed  --follow wait (the default): `rfarm submit --clusters p1 --wait`, one process that
             orders the job, follows it by long polls (the provider answers when it changes) and
             fetches and checks the frames on home (hash, EXR header, tile root) (wall and CPU of
             that process); --follow show: `rfarm submit --clusters p1`, then a `rfarm show JOB
             --json` process every --poll seconds until the frames are fetched, checked and
             written (wall, from the submit to the last show's exit)
   overhead = (routed - local) / local, per pair and of the medians; the pairs alternate which
   goes first (ABBA), so a load change favours neither. Parts of a routed run: the submit, the
   provider's render (order accepted -> last EXR written there, from the EXR's mtime), the delay
   to the fetch (last EXR written -> start of the show that fetched: the provider's commit, then
   the next poll), the fetch and checks (that show's wall and CPU), each status poll's wall and
   CPU, the provider gateway's own CPU and its reaped chunks' CPU (/proc/PID/stat), and the local
   job's render CPU (metered per chunk) and orchestration CPU.

Usage: bench/federation/bench_gateways.py BUILD_DIR [--runs N] [--overhead-runs M] [--poll S] [--out FILE]
Writes JSON (every sample, medians, ranges, machine, load averages from /proc/loadavg).
"""
import argparse
import glob
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENE = os.path.join(ROOT, "examples/scenes/animated_demo.gltf")
PROVIDERS = [("p1", "36"), ("p2", "30"), ("p3", "40")]  # cpu_core_hour: p2 is the cheapest
DEMO = ["--chunk", "2", "--resolution", "480x270", "--spp", "32"]


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def sh(argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def timed(argv):
    t0 = time.monotonic()
    r = sh(argv)
    return time.monotonic() - t0, r


def openssl_pki(d, name):
    """A CA "<name>-ca" and a leaf CN=<name> (server and client auth, SAN 127.0.0.1/localhost)."""
    ca, cakey = f"{d}/{name}-ca.pem", f"{d}/{name}-ca.key"
    sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", cakey, "-out", ca, "-days", "2", "-subj", f"/CN={name}-ca"])
    ext = f"{d}/{name}.ext"
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr", "-subj", f"/CN={name}"])
    sh(["openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", ca, "-CAkey", cakey, "-CAcreateserial",
        "-out", f"{d}/{name}.pem", "-days", "2", "-extfile", ext])
    return ca


class Cluster:
    def __init__(self, rfarm, base, name, price, accounts):
        self.name, self.dir, self.price, self.rfarm_bin = name, os.path.join(base, name), price, rfarm
        os.makedirs(self.dir)
        self.ca = openssl_pki(self.dir, name)
        self.cfg = os.path.join(self.dir, "rfarm.yaml")
        self.accounts = accounts
        self.peers = ""
        self.state = "state"
        self.write_config()
        init = json.loads(self.rf("ledger", "--json", "init", "--cluster", name).stdout)
        self.public_key = init["public_key"]
        for acct, kind in accounts:
            self.rf("ledger", "account", "create", acct, "--kind", kind)

    def write_config(self):
        user_acct = [a for a, k in self.accounts if k == "user" and not a.startswith("peer-")]
        users = f"users: {{root: {user_acct[0]}}}\n" if user_acct else ""
        acc = "".join(f"  - {{name: {a}, kind: {k}" + (", unix_users: [root]" if a in user_acct else "") + "}\n"
                      for a, k in self.accounts)
        d = self.dir
        text = (f"cluster: {{name: {self.name}, backend: local}}\ntoken: {{symbol: RFT, decimals: 6}}\n"
                f"prices: {{cpu_core_hour: \"{self.price}\"}}\n"
                "fees: {treasury_bps: 100, burn_bps: 50, verifier_reward: \"0\"}\n"
                f"{users}accounts:\n{acc}"
                f"ledger: {{path: {d}/ledger.sqlite3}}\nkeys: {{cluster_signing_key: {d}/ledger.sqlite3.key}}\n"
                f"state_dir: {d}/{self.state}\nrender: {{tile_size: 32, max_depth: 4}}\n"
                f"federation:\n  name: {self.name}\n  tls_certificate: {d}/{self.name}.pem\n"
                f"  tls_key: {d}/{self.name}.key\n  peers_file: {d}/peers.yaml\n"
                + (f"  peers:\n{self.peers}" if self.peers else ""))
        tmp = self.cfg + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.cfg)

    def rf(self, *args):
        return sh([self.rfarm_bin, "--config", self.cfg] + list(args))

    def argv(self, *args):
        return [self.rfarm_bin, "--config", self.cfg] + list(args)


def peer_entry(c, url, may_send, may_receive):
    return (f"    - {{name: {c.name}, url: \"{url}\", public_key: \"{c.public_key}\", ca_file: {c.ca}, "
            f"credit_limit: \"1000000\", may_send: {str(may_send).lower()}, may_receive: {str(may_receive).lower()}, "
            "token: {symbol: RFT, decimals: 6}}\n")


class Gateway:
    """`rfarm serve` in its own process group; stderr (one line per request) read with arrival times."""

    def __init__(self, cluster, port=0):
        self.cluster = cluster
        self.lines = []  # (monotonic time, line)
        self.proc = subprocess.Popen(cluster.argv("serve", "--listen", f"127.0.0.1:{port}"), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:([0-9]+)", line)
        if not m:
            sys.exit(f"bench: rfarm serve for {cluster.name} did not start: {line}{self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def requests(self, since, path_re):
        out = []
        for t, line in list(self.lines):
            if t < since or "gateway: peer=" not in line:
                continue
            fields = dict(re.findall(r"(\w+)=(\S+)", line))
            if re.fullmatch(path_re, fields.get("path", "")):
                out.append({"t": t, "status": int(fields["status"]), "ms": float(fields["ms"]),
                            "in": int(fields["in"]), "out": int(fields["out"]), "path": fields["path"]})
        return out

    def kill(self):
        """Kills the gateway and any chunk it is rendering (chunks run in their own process groups)."""
        kill_tree(self.proc.pid)
        self.proc.wait()
        self.reader.join(timeout=5)


def descendants(pid):
    """Every process below pid (from the parent ids in /proc/*/stat: this kernel has no
    /proc/PID/task/TID/children)."""
    parent = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(stat.split("/")[2])] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    out, frontier = [], [pid]
    while frontier:
        kids = [c for c, pp in parent.items() if pp in frontier]
        out += kids
        frontier = kids
    return out


def kill_tree(pid):
    """SIGSTOP the process (it can spawn nothing more), then SIGKILL its descendants and it."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return
    for k in descendants(pid):
        try:
            os.kill(k, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os.kill(pid, signal.SIGKILL)


def med(xs):
    return round(statistics.median(xs), 4)


def summary(xs):
    return {"median": med(xs), "min": round(min(xs), 4), "max": round(max(xs), 4), "n": len(xs),
            "all": [round(x, 4) for x in xs]}


def local_until_queued(home, args):
    """Local `rfarm submit`, timed until it prints "Submitted rfarm job" (the job is queued and held);
    then the process group (submit and its first chunk) is killed: the job never renders."""
    t0 = time.monotonic()
    p = subprocess.Popen(["stdbuf", "-oL"] + home.argv("submit", *args), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    line = p.stdout.readline()
    t = time.monotonic() - t0
    kill_tree(p.pid)
    p.wait()
    if not line.startswith("Submitted rfarm job"):
        sys.exit(f"bench: local submit: {line}{p.stderr.read()}")
    return t


def bench_placement(home, providers, gateways, runs, base):
    out_pattern = os.path.join(base, "placed/frame_####.exr")
    job = ["--frames", "1-240"] + DEMO + ["-o", out_pattern, SCENE]
    s = {k: [] for k in ("local_test_only", "routed_test_only", "routed_submit", "local_submit")}
    server_quote_ms, server_order_ms, order_bytes, chosen = [], [], [], []
    for i in range(runs):
        t, _ = timed(home.argv("submit", "--test-only", *job))
        s["local_test_only"].append(t)
        since = time.monotonic()
        t, r = timed(home.argv("submit", "--clusters", "any", "--test-only", *job))
        s["routed_test_only"].append(t)
        if "<- chosen" not in r.stdout:
            sys.exit(f"bench: no peer chosen:\n{r.stdout}")
        for g in gateways.values():
            server_quote_ms += [q["ms"] for q in g.requests(since, r"/v1/quote")]
        since = time.monotonic()
        t, r = timed(home.argv("submit", "--clusters", "any", *job))
        s["routed_submit"].append(t)
        m = re.search(r"to peer (\w+)", r.stdout)
        if not m:
            sys.exit(f"bench: routed submit did not place the job:\n{r.stdout}\n{r.stderr}")
        peer = m.group(1)
        chosen.append(peer)
        g = gateways[peer]
        orders = g.requests(since, r"/v1/submit")
        if len(orders) != 1 or orders[0]["status"] != 200:
            sys.exit(f"bench: expected one accepted order on {peer}: {orders}")
        server_order_ms.append(orders[0]["ms"])
        order_bytes.append(orders[0]["in"])
        # The peer has 120 chunks queued: stop it (and its renderer) and start it afresh.
        g.kill()
        c = providers[peer]
        c.state = f"state-{i}"
        c.write_config()
        gateways[peer] = Gateway(c, g.port)
        s["local_submit"].append(local_until_queued(home, job))
        print(f"placement run {i + 1}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in s.items()) +
              f", chosen {peer}, load {loadavg()[0]}", flush=True)
    res = {k: summary(v) for k, v in s.items()}
    res["quote_round_s_median"] = round(res["routed_test_only"]["median"] - res["local_test_only"]["median"], 4)
    res["order_s_median"] = round(res["routed_submit"]["median"] - res["routed_test_only"]["median"], 4)
    res["provider_quote_handler_ms"] = summary(server_quote_ms)
    res["provider_order_handler_ms"] = summary(server_order_ms)
    res["order_request_bytes"] = order_bytes[0]
    res["chosen"] = sorted(set(chosen))
    res["job"] = {"frames": 240, "chunks": 120, "resolution": "480x270", "spp": 32, "scene": "examples/scenes/animated_demo.gltf",
                  "peers_quoted": len(providers)}
    return res


def run_rusage(argv):
    """Runs argv as a child; returns (wall s, user+sys CPU s of it and every descendant it reaped, stdout)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = {}
    th = [threading.Thread(target=lambda k, f: outs.__setitem__(k, f.read()), args=(k, f))
          for k, f in (("out", p.stdout), ("err", p.stderr))]
    for t in th:
        t.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    for t in th:
        t.join()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {status}:\n{outs.get('out')}\n{outs.get('err')}")
    return wall, ru.ru_utime + ru.ru_stime, outs["out"]


def proc_cpu(pid):
    """(own CPU s, reaped children's CPU s) of a process, from /proc/PID/stat (clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    # after the command name: state is fields[0], so utime/stime/cutime/cstime are fields[11..14]
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def bench_overhead(home, providers, gateways, runs, poll, base, follow="wait"):
    """Wall time of the demo job local vs routed (interleaved pairs), and where the CPU goes.
    follow="wait": the routed job is followed by `rfarm submit --clusters p1 --wait` (one process,
    long polls); "show": by a `rfarm show` process every `poll` seconds (a script's way)."""
    peer = "p1"
    local, routed, parts = [], [], []
    def run_local(d):
        """render, commit, settle in the foreground; render CPU as the local backend metered it"""
        wall, cpu, out = run_rusage(home.argv("submit", "--parsable", "--frames", "1-6", *DEMO,
                                              "-o", f"{d}/local/frame_####.exr", SCENE))
        job = out.strip().splitlines()[0]
        shown = json.loads(sh(home.argv("show", job, "--json")).stdout)
        if shown["state"] != "rendered":
            sys.exit(f"bench: local demo job ended {shown['state']}")
        render_cpu = sum(c["device_ms"] for c in shown["chunk_states"]) / 1000
        return {"local_wall_s": wall, "local_render_cpu_s": render_cpu,
                # wait4's CPU should include the chunks the submit reaped; on this VM's kernel it
                # does not (bash's `time` agrees), so it is then the submit's own CPU.
                "local_orchestration_cpu_s": cpu - render_cpu if cpu > render_cpu else cpu}

    def run_routed(d):
        """submit, then poll `rfarm show` until the frames are fetched and checked here"""
        g = gateways[peer]
        gw0 = proc_cpu(g.proc.pid)
        t0 = time.monotonic()
        wall_submit, cpu_submit, out = run_rusage(home.argv("submit", "--parsable", "--clusters", peer, "--frames", "1-6",
                                                            *DEMO, "-o", f"{d}/routed/frame_####.exr", SCENE))
        job = out.strip().splitlines()[-1]
        polls = []  # (start, end, cpu, state)
        while True:
            a = time.monotonic()
            _, cpu, out = run_rusage(home.argv("show", job, "--json"))
            b = time.monotonic()
            shown = json.loads(out)
            polls.append((a, b, cpu, shown.get("state")))
            if shown.get("state") in ("rendered", "verified", "failed", "cancelled"):
                break
            if b - t0 > 900:
                sys.exit(f"bench: routed demo job {job} not done after 900 s: {shown}")
            time.sleep(poll)
        t_done = polls[-1][1]
        if polls[-1][3] != "rendered":
            sys.exit(f"bench: routed demo job ended {polls[-1][3]}: {shown}")
        frames = sorted(glob.glob(f"{d}/routed/frame_*.exr"))
        if len(frames) != 6:
            sys.exit(f"bench: routed demo job wrote {len(frames)} frames")
        time.sleep(0.5)  # let the provider settle its job (its thread runs right after the last chunk)
        gw1 = proc_cpu(g.proc.pid)
        # The provider's side: when the order was accepted, when its last EXR was written.
        order = g.requests(t0, r"/v1/submit")[0]
        wall_minus_mono = time.time() - time.monotonic()
        pdir = os.path.join(providers[peer].dir, providers[peer].state, "federation", "home")
        rendered = [os.path.getmtime(p) - wall_minus_mono for p in glob.glob(f"{pdir}/*/renders/frame_*.exr")]
        last_exr = max(t for t in rendered if t > t0)
        status = polls[:-1]
        return {
            "routed_wall_s": t_done - t0,
            "submit_wall_s": wall_submit,
            "submit_cpu_s": cpu_submit,
            "provider_order_handler_ms": order["ms"],
            "provider_render_wall_s": last_exr - order["t"],
            "provider_render_cpu_s": gw1[1] - gw0[1],
            "provider_gateway_cpu_s": gw1[0] - gw0[0],
            "poll_delay_s": polls[-1][0] - last_exr,
            "fetch_and_check_wall_s": polls[-1][1] - polls[-1][0],
            "fetch_and_check_cpu_s": polls[-1][2],
            "status_polls": len(status),
            "status_poll_wall_s_median": statistics.median(b - a for a, b, _, _ in status) if status else 0.0,
            "status_poll_cpu_s_median": statistics.median(c for _, _, c, _ in status) if status else 0.0,
            "status_polls_cpu_s": sum(c for _, _, c, _ in status),
            "fetched_bytes": sum(os.path.getsize(p) for p in frames),
        }

    def run_routed_wait(d):
        """`rfarm submit --clusters p1 --wait`: one process orders, follows by long polls, fetches, checks"""
        g = gateways[peer]
        gw0 = proc_cpu(g.proc.pid)
        t0 = time.monotonic()
        wall, cpu, out = run_rusage(home.argv("submit", "--parsable", "--clusters", peer, "--wait", "--frames", "1-6",
                                              *DEMO, "-o", f"{d}/routed/frame_####.exr", SCENE))
        job = out.strip().splitlines()[-1]
        shown = json.loads(sh(home.argv("show", job, "--json")).stdout)
        if shown.get("state") != "rendered":
            sys.exit(f"bench: routed demo job ended {shown.get('state')}: {shown}")
        frames = sorted(glob.glob(f"{d}/routed/frame_*.exr"))
        if len(frames) != 6:
            sys.exit(f"bench: routed demo job wrote {len(frames)} frames")
        time.sleep(0.5)  # let the provider settle its job (its thread runs right after the last chunk)
        gw1 = proc_cpu(g.proc.pid)
        order = g.requests(t0, r"/v1/submit")[0]
        fetches = g.requests(t0, r"/v1/jobs/\d+/outputs(/\d+)?")
        statuses = g.requests(t0, r"/v1/jobs/\d+(\?.*)?")
        wall_minus_mono = time.time() - time.monotonic()
        pdir = os.path.join(providers[peer].dir, providers[peer].state, "federation", "home")
        rendered = [os.path.getmtime(p) - wall_minus_mono for p in glob.glob(f"{pdir}/*/renders/frame_*.exr")]
        last_exr = max(t for t in rendered if t > t0)
        return {
            "routed_wall_s": wall,
            "routed_cpu_s": cpu,  # the one process: submit, long polls, fetch, checks
            "provider_order_handler_ms": order["ms"],
            "provider_render_wall_s": last_exr - order["t"],
            "provider_render_cpu_s": gw1[1] - gw0[1],
            "provider_gateway_cpu_s": gw1[0] - gw0[0],
            # last EXR written there -> the outputs list served (its log line): commit + the answer
            "fetch_delay_s": fetches[0]["t"] - last_exr,
            "fetch_wall_s": fetches[-1]["t"] - fetches[0]["t"] + fetches[0]["ms"] / 1000,
            "status_requests": len(statuses),
            "long_polls": sum(1 for r in statuses if "wait=" in r["path"]),
            "fetched_bytes": sum(os.path.getsize(p) for p in frames),
        }

    if follow == "wait":
        run_routed = run_routed_wait
    for i in range(runs):
        d = os.path.join(base, f"demo-{i}")
        # Alternate which goes first (ABBA): a load change during a pair then favours neither.
        if i % 2 == 0:
            p = run_local(d)
            p.update(run_routed(d))
        else:
            p = run_routed(d)
            p.update(run_local(d))
        p["first"] = "local" if i % 2 == 0 else "routed"
        p["loadavg_after"] = loadavg()[0]
        parts.append(p)
        local.append(p["local_wall_s"])
        routed.append(p["routed_wall_s"])
        print(f"overhead pair {i + 1}: local {local[-1]:.2f} s, routed {routed[-1]:.2f} s "
              f"({(routed[-1] - local[-1]) / local[-1] * 100:+.1f}%), "
              + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in p.items()), flush=True)
    per_pair = [(r - l) / l for r, l in zip(routed, local)]
    pm = {k: med([p[k] for p in parts]) for k in parts[0] if k != "first"}
    # CPU the routing adds besides rendering and besides what a local job's orchestration costs:
    # with --wait all of the requester's (one process) and the provider gateway's; with show polls,
    # without the status polls (their number is the job's duration / the poll interval).
    if follow == "wait":
        fixed = pm["routed_cpu_s"] + pm["provider_gateway_cpu_s"] - pm["local_orchestration_cpu_s"]
    else:
        fixed = pm["submit_cpu_s"] + pm["fetch_and_check_cpu_s"] + pm["provider_gateway_cpu_s"] - pm["local_orchestration_cpu_s"]
    res = {"local_s": summary(local), "routed_s": summary(routed),
           "overhead_share_of_medians": round((med(routed) - med(local)) / med(local), 4),
           "overhead_share_per_pair": summary(per_pair),
           "target_share": 0.05,
           "cpu_fixed_overhead_s": round(fixed, 4),
           "cpu_fixed_overhead_share_of_render_cpu": round(fixed / pm["local_render_cpu_s"], 4),
           "cpu_per_status_poll_s": pm.get("status_poll_cpu_s_median"),
           "follow": follow,
           "parts_median": pm,
           "parts_all": parts,
           "poll_interval_s": poll,
           "job": {"frames": "1-6", "chunk": 2, "resolution": "480x270", "spp": 32, "max_depth": 4, "tile_size": 32,
                   "threads_per_chunk": 1, "verification": "none on either side", "peer": peer}}
    return res


def bench_calls(home, providers, gateways, runs):
    """What one call costs: a whole `rfarm peers ping` (a fresh process: start-up, config, mTLS
    handshake, signed request, signed answer checked) against `rfarm peers list` (the same start-up
    and config, no network), and the mTLS handshake alone (Python's ssl with home's certificate,
    50 handshakes to p1's gateway, each a new TCP connection)."""
    import socket
    import ssl
    ping, plist = [], []
    for _ in range(runs):
        ping.append(run_rusage(home.argv("peers", "ping", "p1")))
        plist.append(run_rusage(home.argv("peers", "list")))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_cert_chain(f"{home.dir}/home.pem", f"{home.dir}/home.key")
    ctx.load_verify_locations(providers["p1"].ca)
    hs = []
    for _ in range(50):
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", gateways["p1"].port)) as sock:
            with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
                hs.append(time.monotonic() - t0)
                tls.version()
    return {"peers_ping_wall_s": summary([w for w, _, _ in ping]), "peers_ping_cpu_s": summary([c for _, c, _ in ping]),
            "peers_list_wall_s": summary([w for w, _, _ in plist]), "peers_list_cpu_s": summary([c for _, c, _ in plist]),
            "signed_mtls_round_trip_wall_s_median": round(med([w for w, _, _ in ping]) - med([w for w, _, _ in plist]), 4),
            "mtls_handshake_s": summary(hs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--overhead-runs", type=int, default=5)
    ap.add_argument("--poll", type=float, default=0.5)
    ap.add_argument("--follow", choices=["wait", "show"], default="wait",
                    help="follow the routed job by `rfarm submit --wait` (long polls) or `rfarm show` every --poll s")
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip-placement", action="store_true")
    ap.add_argument("--skip-overhead", action="store_true")
    a = ap.parse_args()
    rfarm = os.path.abspath(os.path.join(a.build, "bin/rfarm"))
    base = tempfile.mkdtemp(prefix="rfarm-bench-fed-", dir="/tmp")
    gateways = {}
    load_start = loadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        providers = {n: Cluster(rfarm, base, n, price, [("peer-home", "user"), ("nodes", "provider"),
                                                         ("treasury", "treasury")]) for n, price in PROVIDERS}
        # home pays each provider into its account for it (peers[].account, default peer-<name>).
        home = Cluster(rfarm, base, "home", "36", [("alice", "user"), ("nodes", "provider"), ("treasury", "treasury")]
                       + [(f"peer-{n}", "provider") for n, _ in PROVIDERS])
        home.rf("ledger", "deposit", "alice", "1000000")
        for c in providers.values():
            c.rf("ledger", "deposit", "peer-home", "1000000")
            c.peers = peer_entry(home, "https://127.0.0.1:1", True, False)  # home may send work here
            c.write_config()
            gateways[c.name] = Gateway(c)
        home.peers = "".join(peer_entry(c, f"https://127.0.0.1:{gateways[c.name].port}", True, True)
                             for c in providers.values())
        home.write_config()
        result = {"benchmark": "federation routing through real gateways (bench/federation/bench_gateways.py)",
                  "started_utc": started,
                  "machine": {"cpu": platform.processor() or cpu_model(), "cores": os.cpu_count(),
                              "kernel": platform.release(), "loadavg_start": load_start},
                  "clusters": {"requester": "home", "providers": {n: {"cpu_core_hour": p} for n, p in PROVIDERS}}}
        result["calls"] = bench_calls(home, providers, gateways, a.runs)
        print(f"calls: {result['calls']}", flush=True)
        if not a.skip_placement:
            result["quote_and_place"] = bench_placement(home, providers, gateways, a.runs, base)
        if not a.skip_overhead:
            result["overhead_demo_job"] = bench_overhead(home, providers, gateways, a.overhead_runs, a.poll, base, a.follow)
        result["machine"]["loadavg_end"] = loadavg()
        text = json.dumps(result, indent=2) + "\n"
        if a.out:
            tmp = a.out + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, a.out)
        print(text)
    finally:
        for g in gateways.values():
            g.kill()
        shutil.rmtree(base, ignore_errors=True)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
