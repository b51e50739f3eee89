#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The hvo-scan benchmark, in one run, over the same units with the same
parallelism:

  1. clang-19 -fsyntax-only on every unit (the reference the bar is set
     against: hvo-scan must take at most 0.75x its wall time),
  2. hvo-scan with all hvo checks (header bodies already analysed skipped),
  3. hvo-scan --no-skip-header-bodies (what the skipping saves),
  4. run-clang-tidy-19 with the hvo plugin (-load), the way users would run
     the checks without hvo-scan,

then prints wall and CPU times, the ratios to syntax-only, and compares the
unique findings of hvo-scan and run-clang-tidy-19 (file, line, column,
check, message), which must be equal.  Not a timed test: run it by hand.

  bench/scan/bench_mm_scan.py --hvo-scan build/release/bin/hvo-scan \\
      --plugin build/release/lib/hvo-tidy-plugin.so [-j N] [--repeat R]
"""
import argparse
import concurrent.futures
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import syntax_only_units  # noqa: E402

DEFAULT_TREE = "/usr/src/linux-source-6.12"
DIAG = re.compile(r"^(.+?):(\d+):(\d+): (warning|error): (.*) \[([^\]]+)\]$")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(fn):
    cpu0, t0 = children_cpu(), time.monotonic()
    result = fn()
    return time.monotonic() - t0, children_cpu() - cpu0, result


def selected_entries(db_path, paths):
    with open(db_path) as f:
        db = json.load(f)
    units = sorted({os.path.normpath(os.path.join(e["directory"], e["file"])): e
                    for e in db}.items())
    return [(p, e) for p, e in units
            if any(p == q or p.startswith(q + os.sep) for q in paths)]


def run_syntax_only(entries, jobs):
    def one(entry):
        argv = syntax_only_units.syntax_only(entry, [])
        p = subprocess.run(argv, cwd=entry["directory"], capture_output=True, text=True)
        return p.returncode, p.stderr
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(one, [e for _, e in entries]))
    failed = [r for r in results if r[0] != 0]
    if failed:
        sys.exit("syntax-only failed on %d units:\n%s" % (len(failed), failed[0][1]))


def run_hvo_scan(args, extra):
    sarif = os.path.join(args.work, "hvo-scan.sarif")
    argv = [args.hvo_scan, "--tree", args.tree, "-j", str(args.jobs), "-q",
            "--sarif", sarif] + extra + args.paths
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit("hvo-scan failed (%d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    with open(sarif) as f:
        data = json.load(f)
    found = set()
    for r in data["runs"][0]["results"]:
        loc = r["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        path = os.path.normpath(os.path.join(args.tree, uri)) if "uriBaseId" in loc[
            "artifactLocation"] else uri[len("file://"):]
        found.add((path, loc["region"]["startLine"], loc["region"]["startColumn"],
                   r["ruleId"], r["message"]["text"]))
    return found


def run_clang_tidy(args, entries):
    # The same units with the same flags hvo-scan uses: the database without
    # -Wp,-MMD,<file>, so clang-tidy writes no dependency files into the tree.
    db_dir = os.path.join(args.work, "db")
    os.makedirs(db_dir, exist_ok=True)
    filtered = []
    for path, e in entries:
        argv = ["clang-19"] + [a for a in syntax_only_units.syntax_only(e, [])[1:]
                               if a != "-fsyntax-only"]
        filtered.append({"directory": e["directory"], "file": path, "arguments": argv + ["-c"]})
    with open(os.path.join(db_dir, "compile_commands.json"), "w") as f:
        json.dump(filtered, f)
    argv = ["run-clang-tidy-19", "-clang-tidy-binary", "clang-tidy-19", "-load", args.plugin,
            "-checks=-*,hvo-*", "-header-filter=.*", "-quiet", "-j", str(args.jobs),
            "-p", db_dir] + ["^" + re.escape(p) + "$" for p, _ in entries]
    p = subprocess.run(argv, capture_output=True, text=True)
    found = set()
    for line in p.stdout.splitlines():
        m = DIAG.match(line)
        if m:
            path = os.path.normpath(os.path.join(args.tree, m.group(1)))
            found.add((path, int(m.group(2)), int(m.group(3)), m.group(6), m.group(5)))
    if p.returncode != 0 and not found:
        sys.exit("run-clang-tidy-19 failed (%d):\n%s" % (p.returncode, p.stderr[-2000:]))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hvo-scan", required=True)
    ap.add_argument("--plugin", required=True, help="hvo-tidy-plugin.so for clang-tidy-19 -load")
    ap.add_argument("--tree", default=DEFAULT_TREE)
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; medians reported")
    ap.add_argument("paths", nargs="*", default=["mm"])
    args = ap.parse_args()
    for exe in (args.hvo_scan, args.plugin):
        if not os.path.exists(exe):
            sys.exit("bench: %s: no such file" % exe)
    args.tree = os.path.abspath(args.tree)
    if args.tree == DEFAULT_TREE:
        subprocess.run([os.path.join(HERE, "..", "..", "scripts", "prepare-kernel-tree.sh")],
                       check=True)
    db = os.path.join(args.tree, "compile_commands.json")
    entries = selected_entries(db, [os.path.join(args.tree, p) for p in args.paths])
    if not entries:
        sys.exit("bench: no units under %s" % args.paths)
    args.work = tempfile.mkdtemp(prefix="hvo-scan-bench-")
    print("bench: %d units under %s, -j %d, %d run(s) each, load average %.2f"
          % (len(entries), " ".join(args.paths), args.jobs, args.repeat, os.getloadavg()[0]))

    runs = {"syntax-only": [], "hvo-scan": [], "hvo-scan --no-skip": [], "run-clang-tidy-19": []}
    scan_found = tidy_found = None
    for _ in range(args.repeat):
        runs["syntax-only"].append(timed(lambda: run_syntax_only(entries, args.jobs))[:2])
        w, c, scan_found = timed(lambda: run_hvo_scan(args, []))
        runs["hvo-scan"].append((w, c))
        w, c, noskip_found = timed(lambda: run_hvo_scan(args, ["--no-skip-header-bodies"]))
        runs["hvo-scan --no-skip"].append((w, c))
        w, c, tidy_found = timed(lambda: run_clang_tidy(args, entries))
        runs["run-clang-tidy-19"].append((w, c))
        if noskip_found != scan_found:
            print("bench: WARNING: skipping header bodies changed the findings")

    base_wall = statistics.median(w for w, _ in runs["syntax-only"])
    base_cpu = statistics.median(c for _, c in runs["syntax-only"])
    print("%-22s %9s %9s %9s %9s" % ("", "wall s", "x wall", "cpu s", "x cpu"))
    for name, samples in runs.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print("%-22s %9.1f %9.2f %9.1f %9.2f" % (name, wall, wall / base_wall, cpu,
                                                 cpu / base_cpu))
    print("unique findings: hvo-scan %d, run-clang-tidy-19 %d" % (len(scan_found), len(tidy_found)))
    only_scan, only_tidy = scan_found - tidy_found, tidy_found - scan_found
    for f in sorted(only_scan):
        print("  only hvo-scan:          %s:%d:%d [%s] %s" % f)
    for f in sorted(only_tidy):
        print("  only run-clang-tidy-19: %s:%d:%d [%s] %s" % f)
    print("finding sets: %s" % ("EQUAL" if not only_scan and not only_tidy else "DIFFERENT"))
    shutil.rmtree(args.work, ignore_errors=True)
    return 0 if not only_scan and not only_tidy else 1


if __name__ == "__main__":
    sys.exit(main())
