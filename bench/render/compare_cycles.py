#!/usr/bin/env python3
"""rfarm vs Blender Cycles on the same glTF scene, CPU, same settings, side by side.

  bench/render/compare_cycles.py --rfarm build/bin/rfarm [--runs 3] [--out bench/results/render.json]

Two parts (docs/RENDERER.md, "Benchmark against Cycles"):

1. Throughput. Renders one frame of examples/scenes/animated_demo.gltf with `rfarm render` and with
   Cycles (`blender -b --factory-startup --python bench/render/cycles_render.py`), interleaved
   (rfarm, cycles, rfarm, cycles, ...) after one uncounted warm-up each, and records per run the
   process wall time, the render-only time each renderer measures itself, and the load average
   before and after. Medians, samples/s and the ratio rfarm/Cycles.
2. Mean linear RGB. Renders both at a converged sample count (small image) and compares the mean
   R, G, B of the two EXRs (oiiotool --stats). With --decompose it also renders each light alone
   (variants of the glTF written to the work directory) to show where a difference comes from.

Needs: blender (scripts/install-bench-deps.sh), oiiotool, h5dump. Python standard library only.
"""
import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CYCLES_SCRIPT = os.path.join(ROOT, "bench", "render", "cycles_render.py")


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def blender_env():
    # Debian's blender embeds the system Python 3.11 and finds its standard library (and numpy)
    # from the python3 it sees first on PATH. When this driver runs under another Python 3.11
    # (pyenv, a venv), that one comes first and Blender loses numpy: drop its directories.
    env = dict(os.environ)
    if sys.base_prefix != "/usr":
        env["PATH"] = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep)
                                      if not d.startswith(sys.base_prefix) and not d.startswith(sys.prefix))
    return env


def run_timed(cmd, env=None):
    """Runs cmd; returns (wall seconds, child user+sys CPU seconds, stdout+stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("compare_cycles.py: command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stdout[-4000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stdout


class Rfarm:
    name = "rfarm"

    def __init__(self, a, work):
        self.a, self.work = a, work

    def command(self, scene, res, spp, out, report=None):
        a = self.a
        cmd = [a.rfarm, "render", scene, "--device", "cpu", "--frames", str(a.frame), "--resolution", res,
               "--spp", str(spp), "--max-depth", str(a.max_depth), "--threads", str(a.threads),
               "--camera", a.camera, "--progress", "lines", "--overwrite", "--output", out]
        if report:
            cmd += ["--report", report]
        return cmd

    def render(self, scene, res, spp, out, report=None):
        wall, cpu, log = run_timed(self.command(scene, res, spp, out, report))
        m = re.search(r"done in ([0-9.]+) s", log)
        if not m:
            sys.exit("compare_cycles.py: no 'done in' line from rfarm:\n" + log)
        return {"process_s": wall, "process_cpu_s": cpu, "render_s": float(m.group(1)), "log": log.strip()}


# Two Cycles set-ups (docs/RENDERER.md, "Benchmark against Cycles"). Both take glTF lights as
# radiometric (importer lighting mode COMPAT), a black world, radius-0 punctual lights.
CYCLES_MODES = {
    # what Blender's glTF importer builds: Principled BSDF, Blender spot cone, 8-bit textures
    # filtered in sRGB
    "cycles_import": ["--materials", "principled", "--spot", "blender", "--texture-filtering", "srgb"],
    # the same scene with glTF's own conventions where Blender's differ: glTF BRDF node graph for
    # dielectrics, glTF spot falloff, textures filtered in linear light
    "cycles_matched": ["--materials", "gltf", "--spot", "gltf", "--texture-filtering", "linear"],
}


class Cycles:
    def __init__(self, a, work, name):
        self.a, self.work, self.name = a, work, name
        self.extra = CYCLES_MODES[name]

    def render(self, scene, res, spp, out, describe=False):
        a = self.a
        rec_path = out + ".json"
        cmd = [a.blender, "-b", "--factory-startup", "--python-exit-code", "1", "--python", CYCLES_SCRIPT, "--",
               "--scene", scene, "--camera", a.camera, "--frame", str(a.frame - a.frame_start),
               "--resolution", res, "--spp", str(spp), "--max-depth", str(a.max_depth),
               "--threads", str(a.threads), "--output", out, "--json", rec_path] + self.extra
        if describe:
            cmd.append("--describe")
        wall, cpu, log = run_timed(cmd, env=blender_env())
        if not os.path.exists(rec_path):
            sys.exit("compare_cycles.py: blender wrote no %s:\n%s" % (rec_path, log[-4000:]))
        with open(rec_path) as f:
            rec = json.load(f)
        return {"process_s": wall, "process_cpu_s": cpu, "render_s": rec["render_s"],
                "import_s": rec["import_s"], "record": rec}


def mean_rgb(exr):
    """Mean of R, G, B over the image (oiiotool --printstats on those channels)."""
    out = subprocess.run(["oiiotool", exr, "--ch", "R,G,B", "--printstats"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, check=True).stdout
    m = re.search(r"Stats Avg:\s*([-0-9.eE+]+)\s+([-0-9.eE+]+)\s+([-0-9.eE+]+)", out)
    if not m:
        sys.exit("compare_cycles.py: no 'Stats Avg' in oiiotool output for %s:\n%s" % (exr, out))
    return [float(m.group(i)) for i in (1, 2, 3)]


def rays_of(report):
    out = subprocess.run(["h5dump", "-d", "/frames", report], stdout=subprocess.PIPE, text=True, check=True).stdout
    # the compound row prints its fields in order: frame, rank, host, device, seconds, samples, rays, ...
    m = re.search(r"\(0\): \{\s*(.*?)\s*\}", out, re.S)
    fields = [x.strip().strip('"') for x in m.group(1).split(",")]
    return int(fields[5]), int(fields[6])


def check_animation(scene_path, cycles_rec, time_s):
    """The animated cube's world matrix at time_s, evaluated from the glTF here (LINEAR, CUBICSPLINE
    with its tangents, STEP, as the glTF spec defines them), against where Blender put it. Blender
    3.4's importer drops CUBICSPLINE tangents (AUTO Bezier handles), so between keys its rotation
    differs; at a key time everything matches."""
    import struct
    with open(scene_path) as f:
        g = json.load(f)
    with open(os.path.join(os.path.dirname(scene_path), g["buffers"][0]["uri"]), "rb") as f:
        data = f.read()

    def floats(acc_index):
        acc = g["accessors"][acc_index]
        view = g["bufferViews"][acc["bufferView"]]
        n = acc["count"] * {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc["type"]]
        return list(struct.unpack_from("<%df" % n, data, view.get("byteOffset", 0) + acc.get("byteOffset", 0)))

    cube = next(i for i, n in enumerate(g["nodes"]) if n.get("name") == "cube")
    node = g["nodes"][cube]
    trs = {"translation": node.get("translation", [0, 0, 0]), "rotation": node.get("rotation", [0, 0, 0, 1]),
           "scale": node.get("scale", [1, 1, 1])}
    anim = g["animations"][0]
    for ch in anim["channels"]:
        if ch["target"]["node"] != cube:
            continue
        smp = anim["samplers"][ch["sampler"]]
        times, vals = floats(smp["input"]), floats(smp["output"])
        n = len(trs[ch["target"]["path"]])
        mode = smp.get("interpolation", "LINEAR")
        t = min(max(time_s, times[0]), times[-1])
        k = len(times) - 2 if t >= times[-1] else max(i for i in range(len(times)) if times[i] <= t)
        dt = times[k + 1] - times[k]
        s = (t - times[k]) / dt
        if mode == "CUBICSPLINE":  # (in-tangent, value, out-tangent) per key
            key = lambda i, part: vals[(3 * i + part) * n:(3 * i + part + 1) * n]
            p0, m0, p1, m1 = key(k, 1), key(k, 2), key(k + 1, 1), key(k + 1, 0)
            h = (2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2)
            v = [h[0] * p0[j] + h[1] * dt * m0[j] + h[2] * p1[j] + h[3] * dt * m1[j] for j in range(n)]
        elif mode == "STEP":
            v = vals[(k + 1 if t >= times[k + 1] else k) * n:][:n]
        else:  # LINEAR (rotation would be slerp; the demo animates rotation with CUBICSPLINE only)
            v = [vals[k * n + j] * (1 - s) + vals[(k + 1) * n + j] * s for j in range(n)]
        if ch["target"]["path"] == "rotation":
            norm = sum(x * x for x in v) ** 0.5
            v = [x / norm for x in v]
        trs[ch["target"]["path"]] = v
    x, y, z, w = trs["rotation"]
    r = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
         [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
         [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    m = [[r[i][j] * trs["scale"][j] for j in range(3)] + [trs["translation"][i]] for i in range(3)]
    # the cube's parent ("rig") has a zero translation and no animation in this scene.
    # glTF Y-up -> Blender Z-up: B = C M C^-1 with C = [[1,0,0],[0,0,-1],[0,1,0]].
    c = [[1, 0, 0], [0, 0, -1], [0, 1, 0]]
    ct = [list(col) for col in zip(*c)]
    rot = [[sum(c[i][a] * m[a][b] * ct[b][j] for a in range(3) for b in range(3)) for j in range(3)] for i in range(3)]
    tr = [sum(c[i][a] * m[a][3] for a in range(3)) for i in range(3)]
    expect = [rot[i] + [tr[i]] for i in range(3)]
    got = next(mm["matrix_world"] for mm in cycles_rec["imported"]["meshes"] if mm["object"] == "cube")
    err = max(abs(expect[i][j] - got[i][j]) for i in range(3) for j in range(4))
    return {"time_s": time_s, "expected_cube_matrix_blender_axes": [[round(v, 6) for v in row] for row in expect],
            "blender_cube_matrix": got[:3], "max_abs_error": err, "ok": err < 1e-3}


def light_variants(scene_path, work):
    """glTF copies with one light source each: key, spot, sun (punctual) and panel (emissive)."""
    with open(scene_path) as f:
        g = json.load(f)
    src = os.path.dirname(scene_path)
    for b in g.get("buffers", []) + g.get("images", []):
        if "uri" in b and not b["uri"].startswith("data:"):
            shutil.copy(os.path.join(src, b["uri"]), os.path.join(work, b["uri"]))
    lights = g["extensions"]["KHR_lights_punctual"]["lights"]
    variants = {}
    for keep in [l["name"] for l in lights] + ["panel"]:
        v = json.loads(json.dumps(g))
        for n in v["nodes"]:
            ext = n.get("extensions", {}).get("KHR_lights_punctual")
            if ext is not None and lights[ext["light"]]["name"] != keep:
                del n["extensions"]  # the node stays, without its light
        if keep != "panel":
            for m in v["materials"]:
                m.pop("emissiveFactor", None)
        path = os.path.join(work, "only_%s.gltf" % keep)
        with open(path, "w") as f:
            json.dump(v, f)
        variants[keep] = path
    return variants


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with open("/proc/meminfo") as f:
        mem = f.readline().split(":", 1)[1].strip()
    def out(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
        except OSError:
            return ""
    return {"cpu": cpu, "nproc": os.cpu_count(), "memory": mem, "kernel": platform.release(),
            "os": out(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
            "gpu": "none on this machine (the CUDA path is measured by bench/gpu on a GPU machine: bench/results/gpu.json)",
            "git_commit": out(["git", "-C", ROOT, "rev-parse", "HEAD"]),
            "blender": out(["blender", "--version"]).splitlines()[0] if shutil.which("blender") else None}


def ratio(a, b):
    return [x / y if y else None for x, y in zip(a, b)]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rfarm", default=os.path.join(ROOT, "build", "bin", "rfarm"))
    p.add_argument("--blender", default="blender")
    p.add_argument("--scene", default=os.path.join(ROOT, "examples", "scenes", "animated_demo.gltf"))
    p.add_argument("--camera", default="camera", help="camera node name (rfarm and Blender both accept it)")
    p.add_argument("--frame", type=int, default=25,
                   help="rfarm frame (25 = t 1 s: the cube is moved, turned 90 degrees and scaled 1.25; a key "
                        "time, where Blender 3.4's importer evaluates the CUBICSPLINE rotation exactly)")
    p.add_argument("--frame-start", type=int, default=1)
    p.add_argument("--resolution", default="640x360")
    p.add_argument("--spp", type=int, default=32)
    p.add_argument("--max-depth", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--mean-resolution", default="160x90")
    p.add_argument("--mean-spp", type=int, default=1024)
    p.add_argument("--decompose", action="store_true", help="also compare each light alone (mean RGB)")
    p.add_argument("--decompose-spp", type=int, default=256)
    p.add_argument("--skip-timing", action="store_true")
    p.add_argument("--work", default=None, help="keep the images here (default: a temporary directory)")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "render.json"))
    a = p.parse_args()
    a.rfarm = os.path.abspath(a.rfarm)
    a.scene = os.path.abspath(a.scene)
    work = a.work or tempfile.mkdtemp(prefix="rfarm-vs-cycles-")
    os.makedirs(work, exist_ok=True)
    rf = Rfarm(a, work)
    cys = [Cycles(a, work, name) for name in CYCLES_MODES]
    w, h = (int(x) for x in a.resolution.split("x"))
    time_s = (a.frame - a.frame_start) / 24.0

    result = {
        "benchmark": "bench/render/compare_cycles.py " + " ".join(sys.argv[1:]),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "load_note": "2-core VM shared with other agents' compiles: each run records /proc/loadavg "
                     "(1, 5, 15 min) before and after; with a load above 2 both renderers lose CPU",
        "settings": {"scene": os.path.relpath(a.scene, ROOT), "frame": a.frame, "time_s": time_s,
                     "blender_frame": a.frame - a.frame_start, "camera": a.camera,
                     "resolution": a.resolution, "spp": a.spp, "rfarm_max_depth": a.max_depth,
                     "cycles_max_bounces": max(0, a.max_depth - 1), "threads": a.threads,
                     "device": "CPU", "runs": a.runs, "cycles_modes": CYCLES_MODES,
                     "mapping": "see docs/RENDERER.md 'Benchmark against Cycles'"},
    }

    # Warm-up (uncounted): page cache, Blender's add-on import, Cycles' kernel load; it also records
    # what Blender imported and checks the animated cube landed where the glTF puts it.
    for c in cys:
        warm = c.render(a.scene, a.resolution, a.spp, os.path.join(work, c.name + "_warm.exr"), describe=True)
        result[c.name + "_imported"] = warm["record"]["imported"]
    rf.render(a.scene, a.resolution, a.spp, os.path.join(work, "rfarm_warm_####.exr"))
    result["animation_check"] = check_animation(a.scene, warm["record"], time_s)
    print("compare_cycles.py: animation check " + json.dumps(result["animation_check"]), flush=True)
    if not a.skip_timing:
        runs = []
        for i in range(a.runs):
            for r in [rf] + cys:
                before = loadavg()
                out = os.path.join(work, "%s_run%d%s" % (r.name, i, "_####.exr" if r is rf else ".exr"))
                res = r.render(a.scene, a.resolution, a.spp, out)
                res.pop("record", None)
                res.pop("log", None)
                runs.append({"renderer": r.name, "run": i, "load_before": before, "load_after": loadavg(), **res})
                print("compare_cycles.py: %-14s run %d: render %.3f s, process %.3f s, load %s -> %s" % (
                    r.name, i, res["render_s"], res["process_s"], before, runs[-1]["load_after"]), flush=True)
        samples = w * h * a.spp
        summary = {}
        for name in ["rfarm"] + list(CYCLES_MODES):
            rs = [r for r in runs if r["renderer"] == name]
            med_render = statistics.median(r["render_s"] for r in rs)
            med_proc = statistics.median(r["process_s"] for r in rs)
            med_cpu = statistics.median(r["process_cpu_s"] for r in rs)
            summary[name] = {"median_render_s": med_render, "median_process_s": med_proc,
                             "median_process_cpu_s": med_cpu,
                             "samples": samples, "samples_per_s_render": samples / med_render,
                             "samples_per_s_process": samples / med_proc,
                             "samples_per_cpu_s_process": samples / med_cpu}
        report = os.path.join(work, "rfarm_report.h5")
        rf.render(a.scene, a.resolution, a.spp, os.path.join(work, "rfarm_rays_####.exr"), report=report)
        rsamples, rays = rays_of(report)
        summary["rfarm"]["rays"] = rays
        summary["rfarm"]["rays_per_s_render"] = rays / summary["rfarm"]["median_render_s"]
        for name in CYCLES_MODES:
            summary["ratio_rfarm_over_%s_samples_per_s_render" % name] = (
                summary["rfarm"]["samples_per_s_render"] / summary[name]["samples_per_s_render"])
            summary["ratio_rfarm_over_%s_samples_per_s_process" % name] = (
                summary["rfarm"]["samples_per_s_process"] / summary[name]["samples_per_s_process"])
            summary["ratio_rfarm_over_%s_samples_per_cpu_s_process" % name] = (
                summary["rfarm"]["samples_per_cpu_s_process"] / summary[name]["samples_per_cpu_s_process"])
        summary["target_cpu_samples_per_s_at_least_cycles"] = all(
            summary["ratio_rfarm_over_%s_samples_per_s_render" % n] >= 1.0 for n in CYCLES_MODES)
        result["runs"] = runs
        result["timing"] = summary
        print(json.dumps(summary, indent=1), flush=True)

    # Mean linear RGB at a converged sample count.
    def compare(scene, tag, modes):
        lb = loadavg()
        r = rf.render(scene, a.mean_resolution, a.mean_spp, os.path.join(work, "mean_rfarm_%s_####.exr" % tag))
        mr = mean_rgb(os.path.join(work, "mean_rfarm_%s_%04d.exr" % (tag, a.frame)))
        row = {"scene": os.path.basename(scene), "rfarm_mean_rgb": mr, "rfarm_render_s": r["render_s"]}
        for c in modes:
            out = os.path.join(work, "mean_%s_%s.exr" % (c.name, tag))
            res = c.render(scene, a.mean_resolution, a.mean_spp, out)
            mc = mean_rgb(out)
            rat = ratio(mr, mc)
            row[c.name] = {"mean_rgb": mc, "ratio_rfarm_over_cycles": rat, "render_s": res["render_s"],
                           "within_10_percent": all(x is not None and abs(x - 1) <= 0.10 for x in rat)}
            print("compare_cycles.py: mean RGB %-6s rfarm %s %s %s ratio %s" % (
                tag, [round(x, 5) for x in mr], c.name, [round(x, 5) for x in mc],
                [round(x, 4) if x else x for x in rat]), flush=True)
        row["load_before"], row["load_after"] = lb, loadavg()
        return row

    mean = {"resolution": a.mean_resolution, "spp": a.mean_spp, "full": compare(a.scene, "full", cys)}
    if a.decompose:
        mean["per_light_spp"] = a.decompose_spp
        spp, a.mean_spp = a.mean_spp, a.decompose_spp
        mean["per_light"] = {k: compare(v, k, cys) for k, v in light_variants(a.scene, work).items()}
        a.mean_spp = spp
    result["mean_rgb"] = mean
    result["targets"] = {
        "cpu_samples_per_s_at_least_cycles": result.get("timing", {}).get("target_cpu_samples_per_s_at_least_cycles"),
        "mean_rgb_within_10_percent_cycles_matched": mean["full"]["cycles_matched"]["within_10_percent"],
        "mean_rgb_within_10_percent_cycles_import": mean["full"]["cycles_import"]["within_10_percent"],
        "gpu_50x_cpu": "unmeasured (no GPU on this machine)",
    }
    result["work_dir"] = work
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("compare_cycles.py: wrote " + a.out)


if __name__ == "__main__":
    main()
