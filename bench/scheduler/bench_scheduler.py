#!/usr/bin/env python3
"""bench/scheduler: what the farm costs around the rendering.

1. Planning + storing + submitting a 100,000-frame job (chunks of 10 = one 10,000-element Slurm
   array) with `rfarm submit` on the real Slurm testbed (scripts/slurm-testbed.sh): wall time of the
   command, and the number of sbatch calls (counted by an sbatch wrapper first on PATH). The array
   is scancel'ed right after.
2. The farm's overhead on the demo job (scripts/demo.sh's: frames 1-6, chunks of 2, 480x270,
   32 spp, local backend, -c = all cores) in CPU time, not wall time: wall-clock comparisons on the
   shared 2-core VM drowned in load noise (92 vs 83 s, then the reverse). `rfarm submit` runs as a
   child of this script and is reaped with os.wait4, whose rusage covers it and every descendant it
   waited for (render chunks, rfarm verify). The render processes' CPU is what the local backend
   metered for each chunk with its own wait4 (user+sys, `rfarm show --json` chunk device_ms), so
       orchestration CPU = submit tree CPU - render CPU        (submit, store, hold, evidence, commits,
                                                                verdicts, settlement, process spawning)
   from a run WITHOUT a verifier account, and verification CPU (its own issue, reported apart) =
   (submit tree CPU - render CPU) of a run WITH one, minus the median orchestration CPU. Medians of
   --runs runs, the two variants interleaved. Target: orchestration < 2% of render CPU.

Usage: bench/scheduler/bench_scheduler.py BUILD_DIR [--runs N] [--out bench/results/scheduler.json]
Must run as root (the testbed). Writes JSON with every sample and the medians.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENE = os.path.join(ROOT, "examples/scenes/animated_demo.gltf")


def sh(argv, env=None, check=True):
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def site(dir_, rfarm, backend, verifier):
    cfg = os.path.join(dir_, "rfarm.yaml")
    user = os.environ.get("USER") or "root"
    with open(cfg, "w") as f:
        f.write(f"cluster: {{name: bench, backend: {backend}}}\n"
                "token: {symbol: RFT, decimals: 6}\n"
                "prices: {cpu_core_hour: \"0.000036\"}\n"
                "fees: {treasury_bps: 100, burn_bps: 50, verifier_reward: \"0\"}\n"
                "accounts:\n"
                f"  - {{name: studio, kind: user, unix_users: [{user}]}}\n"
                "  - {name: nodes, kind: provider}\n"
                "  - {name: treasury, kind: treasury}\n"
                + ("  - {name: verifiers, kind: verifier}\n" if verifier else "") +
                f"users: {{{user}: studio}}\n"
                f"ledger: {{path: {dir_}/ledger.sqlite3}}\n"
                f"state_dir: {dir_}/state\n"
                "render: {tile_size: 32, max_depth: 4}\n")
    rf = [rfarm, "--config", cfg]
    sh(rf + ["ledger", "init", "--cluster", "bench"])
    for name, kind in [("studio", "user"), ("nodes", "provider"), ("treasury", "treasury")] + (
            [("verifiers", "verifier")] if verifier else []):
        sh(rf + ["ledger", "account", "create", name, "--kind", kind])
    sh(rf + ["ledger", "deposit", "studio", "1000000"])
    return rf


def bench_slurm_submit(rfarm):
    tb = tempfile.mkdtemp(prefix="rfarm-bench-tb-", dir="/tmp")
    testbed = os.path.join(ROOT, "scripts/slurm-testbed.sh")
    sh(["bash", testbed, "start", tb, "--cluster", "benchsub"])
    try:
        env = dict(os.environ, SLURM_CONF=os.path.join(tb, "etc/slurm.conf"))
        # Count sbatch calls: a wrapper first on PATH logs each call and runs the real sbatch.
        wrap = os.path.join(tb, "wrap")
        os.makedirs(wrap)
        calls = os.path.join(tb, "sbatch.calls")
        real = shutil.which("sbatch")
        with open(os.path.join(wrap, "sbatch"), "w") as f:
            f.write(f"#!/bin/sh\necho \"$*\" >> {calls}\nexec {real} \"$@\"\n")
        os.chmod(os.path.join(wrap, "sbatch"), 0o755)
        env["PATH"] = wrap + ":" + env["PATH"]
        rf = site(tb, rfarm, "slurm", verifier=True)
        out = os.path.join(tb, "out/frame_######.exr")
        t0 = time.monotonic()
        r = sh(rf + ["submit", "--parsable", "--frames", "1-100000", "--chunk", "10", "--resolution", "32x18",
                     "--spp", "1", "-o", out, SCENE], env=env)
        seconds = time.monotonic() - t0
        job = r.stdout.strip()
        with open(calls) as f:
            n_calls = sum(1 for _ in f)
        show = json.loads(sh(rf + ["queue", "--json"], env=env).stdout)[0]
        sh(["scancel", show["backend_id"]], env=env, check=False)
        if show.get("verify_backend_id"):
            sh(["scancel", show["verify_backend_id"]], env=env, check=False)
        return {"frames": 100000, "chunk": 10, "array_elements": show["chunks"], "sbatch_calls": n_calls,
                "submit_seconds": round(seconds, 3), "job": job,
                "what": "rfarm submit: plan + quote + store (100,000 frame rows) + ledger hold + 1 sbatch array + "
                        "1 verification sbatch, on the Slurm testbed"}
    finally:
        sh(["bash", testbed, "stop", tb], check=False)
        shutil.rmtree(tb, ignore_errors=True)


def cpu_seconds(argv):
    """Runs argv as a child and returns (user+sys CPU seconds of it and its reaped descendants, wall)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Drain the pipes in the background (a full pipe would stall the child), then reap it with wait4.
    import threading
    outs = {}
    th = [threading.Thread(target=lambda k, f: outs.__setitem__(k, f.read()), args=(k, f))
          for k, f in (("out", proc.stdout), ("err", proc.stderr))]
    for t in th:
        t.start()
    _, status, ru = os.wait4(proc.pid, 0)
    for t in th:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {proc.returncode}:\n{outs.get('out')}\n{outs.get('err')}")
    return ru.ru_utime + ru.ru_stime, time.monotonic() - t0


def bench_overhead(rfarm, runs):
    args = ["--frames", "1-6", "--resolution", "480x270", "--spp", "32"]
    cores = str(os.cpu_count())
    plain, verified = [], []
    for i in range(runs):
        for variant in ("plain", "verified"):
            d = tempfile.mkdtemp(prefix=f"rfarm-bench-{variant}-", dir="/tmp")
            try:
                out = os.path.join(d, "frames/frame_####.exr")
                rf = site(d, rfarm, "local", verifier=(variant == "verified"))
                cpu, wall = cpu_seconds(rf + ["submit"] + args + ["--chunk", "2", "-c", cores, "-o", out, SCENE])
                job = json.loads(sh(rf + ["show", "1", "--json"]).stdout)
                render_ms = sum(c["device_ms"] for c in job["chunk_states"])
                assert all(c["usage_source"] == "measured" for c in job["chunk_states"]), job["chunk_states"]
                sample = {"submit_tree_cpu_s": round(cpu, 3), "render_cpu_s": round(render_ms / 1000, 3),
                          "rest_cpu_s": round(cpu - render_ms / 1000, 3), "wall_s": round(wall, 3),
                          "state": job["state"]}
                (plain if variant == "plain" else verified).append(sample)
            finally:
                shutil.rmtree(d, ignore_errors=True)
        print(f"run {i + 1}: plain {plain[-1]}, verified {verified[-1]}", flush=True)
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    orchestration = med(plain, "rest_cpu_s")
    render = med(plain, "render_cpu_s")
    verification = statistics.median(x["rest_cpu_s"] - orchestration for x in verified)
    return {"job": "frames 1-6, chunks of 2, 480x270, 32 spp, depth 4, tile 32, CPU, local backend (scripts/demo.sh)",
            "method": "CPU seconds (user+sys) from wait4 rusage; render = the chunks' metered CPU; "
                      "orchestration = submit tree - render (run without verifier); verification = "
                      "(submit tree - render) with a verifier - median orchestration",
            "runs": runs, "without_verifier": plain, "with_verifier": verified,
            "median_render_cpu_s": render, "median_orchestration_cpu_s": orchestration,
            "overhead_fraction": round(orchestration / render, 5),
            "median_verification_cpu_s": round(verification, 3),
            "verification_fraction": round(verification / med(verified, "render_cpu_s"), 4),
            "target_overhead_fraction": 0.02}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build_dir")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", default=os.path.join(ROOT, "bench/results/scheduler.json"))
    p.add_argument("--skip-slurm", action="store_true")
    a = p.parse_args()
    rfarm = os.path.join(os.path.abspath(a.build_dir), "bin/rfarm")
    result = {"machine": f"{platform.node()}: {os.cpu_count()} cores, shared with other builds (see load)",
              "load_before": os.getloadavg(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if not a.skip_slurm:
        result["submit_100k"] = bench_slurm_submit(rfarm)
        print("100k submit:", json.dumps(result["submit_100k"]), flush=True)
    result["overhead"] = bench_overhead(rfarm, a.runs)
    result["load_after"] = os.getloadavg()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps(result["overhead"], indent=2))


if __name__ == "__main__":
    main()
