#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""hvo-scan over a tiny kernel-shaped tree (tree/): findings, header dedup,
summary, SARIF structure and fingerprint stability, baseline, GCC-flag
dropping, bad inputs and exit codes, and the sparse-style hvo-check.

Each test copies tree/ to a scratch directory and writes its compile
database there, so absolute paths are real and edits stay local."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None
HERE = os.path.dirname(os.path.abspath(__file__))
UNITS = ["mm/alpha.c", "mm/beta.c", "mm/gamma.c", "lib/delta.c"]
KERNEL_FLAGS = ("-nostdinc -I./include -include ./include/linux/kconfig.h -D__KERNEL__ "
                "-std=gnu11 -fno-strict-aliasing -Wall -Werror -O2")
# What a GCC-built kernel adds that clang does not take (kernel Makefiles).
GCC_ONLY = ["-fconserve-stack", "-mrecord-mcount", "-fno-allow-store-data-races",
            "-mindirect-branch=thunk-extern", "-mindirect-branch-register",
            "-mpreferred-stack-boundary=3", "-fno-var-tracking-assignments",
            "-Wno-maybe-uninitialized", "-Wimplicit-fallthrough=5", "-fno-ipa-sra",
            "--param=allow-store-data-races=0", "-falign-jumps=1",
            "-fplugin=./scripts/gcc-plugins/stackleak_plugin.so"]
# Flags both compilers take: must survive.
SHARED = ["-mskip-rax-setup", "-mno-fp-ret-in-387", "-mno-red-zone"]


def expected_findings(root, units):
    """(file, line, check) for every 'expect:' marker of the active module in
    the units and the headers they include (only page-flags.h has any)."""
    prefix = "hvo-" if ARGS.module == "hvoTidyModule" else "linuxkernel-"
    files = list(units)
    if any(u != "mm/gamma.c" for u in units):
        files.append("include/linux/page-flags.h")
    found = set()
    for rel in files:
        with open(os.path.join(root, rel)) as f:
            for n, line in enumerate(f, 1):
                m = re.search(r"expect: (\S+) \*/", line)
                if m and m.group(1).startswith(prefix):
                    found.add((rel, n, m.group(1)))
    return found


class Tree:
    def __init__(self):
        self.scratch = tempfile.mkdtemp(prefix="hvo-scan-test-")
        self.root = os.path.join(self.scratch, "tree")
        shutil.copytree(os.path.join(HERE, "tree"), self.root)
        self.write_database(self.root, clang_style=True)

    def write_database(self, directory, clang_style):
        entries = []
        for unit in UNITS:
            obj = unit[:-2] + ".o"
            dep = os.path.join(os.path.dirname(unit), "." + os.path.basename(obj) + ".d")
            modname = os.path.basename(unit)[:-2]
            if clang_style:
                cmd = ("clang-19 -Wp,-MMD,%s %s --target=x86_64-linux-gnu %s "
                       "-DKBUILD_MODNAME='\"%s\"' -c -o %s %s"
                       % (dep, KERNEL_FLAGS, " ".join(SHARED), modname, obj, unit))
                entries.append({"directory": self.root, "file": os.path.join(self.root, unit),
                                "command": cmd})
            else:
                args = (["gcc", "-Wp,-MMD," + dep] + KERNEL_FLAGS.split() + SHARED + GCC_ONLY
                        + ["-DKBUILD_MODNAME=\"%s\"" % modname, "-c", "-o", obj, unit])
                entries.append({"directory": self.root, "file": unit, "arguments": args})
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "compile_commands.json"), "w") as f:
            json.dump(entries, f, indent=1)

    def path(self, rel):
        return os.path.join(self.root, rel)

    def insert_lines(self, rel, line_number, text):
        with open(self.path(rel)) as f:
            lines = f.readlines()
        lines[line_number - 1:line_number - 1] = [text]
        with open(self.path(rel), "w") as f:
            f.writelines(lines)

    def cleanup(self):
        shutil.rmtree(self.scratch, ignore_errors=True)


def run(args, cwd=None):
    return subprocess.run([ARGS.hvo_scan] + args, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def sarif_findings(sarif):
    out = set()
    for r in sarif["runs"][0]["results"]:
        loc = r["locations"][0]["physicalLocation"]
        out.add((loc["artifactLocation"]["uri"], loc["region"]["startLine"], r["ruleId"]))
    return out


class HvoScanTest(unittest.TestCase):
    def setUp(self):
        self.tree = Tree()
        self.out = os.path.join(self.tree.scratch, "out")
        os.makedirs(self.out)

    def tearDown(self):
        self.tree.cleanup()

    def scan(self, *extra, expect_status=1, tree=True):
        args = (["--tree", self.tree.root] if tree else []) + list(extra)
        proc = run(args)
        self.assertEqual(proc.returncode, expect_status,
                         "exit status of hvo-scan %s\nstdout:\n%s\nstderr:\n%s"
                         % (" ".join(args), proc.stdout, proc.stderr))
        return proc

    def sarif(self, *extra, name="scan.sarif", expect_status=1):
        path = os.path.join(self.out, name)
        self.scan("--sarif", path, *extra, expect_status=expect_status)
        with open(path) as f:
            text = f.read()
        return json.loads(text), text

    def test_findings_are_those_marked_in_the_tree(self):
        sarif, _ = self.sarif("mm")
        self.assertEqual(sarif_findings(sarif),
                         expected_findings(self.tree.root, ["mm/alpha.c", "mm/beta.c", "mm/gamma.c"]))

    def test_header_finding_seen_by_two_units_is_reported_once(self):
        proc = self.scan("mm")
        header_lines = [l for l in proc.stdout.splitlines()
                        if l.startswith("include/linux/page-flags.h:") and ": warning: " in l]
        want = [f for f in expected_findings(self.tree.root, ["mm/beta.c"])]
        self.assertEqual(len(header_lines), len(want), proc.stdout)
        self.assertEqual(len(set(header_lines)), len(header_lines), proc.stdout)
        # Without skipping header bodies every unit reports it: still once.
        proc_full = self.scan("mm", "--no-skip-header-bodies")
        self.assertEqual(proc.stdout, proc_full.stdout)

    def test_summary_counts_findings_per_check(self):
        proc = self.scan("mm")
        want = expected_findings(self.tree.root, ["mm/alpha.c", "mm/beta.c"])
        checks = sorted({c for _, _, c in want})
        m = re.search(r"^hvo-scan: 3 units, (\d+) checks, (\d+) findings$", proc.stdout, re.M)
        self.assertTrue(m, proc.stdout)
        self.assertEqual(int(m.group(2)), len(want))
        for check in checks:
            n = sum(1 for _, _, c in want if c == check)
            self.assertRegex(proc.stdout, r"(?m)^  %s +%d$" % (re.escape(check), n))
        self.assertRegex(proc.stdout, r"(?m)^  total +%d$" % len(want))

    def test_sarif_has_the_structure_code_scanning_needs(self):
        sarif, _ = self.sarif("mm")
        self.assertEqual(sarif["version"], "2.1.0")
        self.assertIn("sarif-2.1.0", sarif["$schema"])
        run0 = sarif["runs"][0]
        driver = run0["tool"]["driver"]
        self.assertEqual(driver["name"], "hvo-scan")
        rules = driver["rules"]
        self.assertTrue(rules)
        for rule in rules:
            for key in ("id", "name", "helpUri"):
                self.assertTrue(rule[key], rule)
            self.assertTrue(rule["shortDescription"]["text"], rule)
            self.assertTrue(rule["fullDescription"]["text"], rule)
            self.assertRegex(rule["helpUri"], r"^[a-z]+://")
        self.assertEqual(len({r["id"] for r in rules}), len(rules))
        self.assertTrue(run0["originalUriBaseIds"]["SRCROOT"]["uri"].endswith("/"))
        self.assertTrue(run0["results"])
        for r in run0["results"]:
            self.assertEqual(rules[r["ruleIndex"]]["id"], r["ruleId"])
            self.assertIn(r["level"], ("warning", "error", "note"))
            self.assertTrue(r["message"]["text"])
            art = r["locations"][0]["physicalLocation"]["artifactLocation"]
            self.assertFalse(art["uri"].startswith("/"), art)
            self.assertEqual(art["uriBaseId"], "SRCROOT")
            self.assertTrue(os.path.exists(self.tree.path(art["uri"])), art)
            region = r["locations"][0]["physicalLocation"]["region"]
            self.assertGreaterEqual(region["startLine"], 1)
            self.assertGreaterEqual(region["startColumn"], 1)
            fp = r["partialFingerprints"]
            self.assertEqual(len(fp), 1)
            self.assertRegex(list(fp.values())[0], r"^[0-9a-f]{32}$")
        fps = [list(r["partialFingerprints"].values())[0] for r in run0["results"]]
        self.assertEqual(len(set(fps)), len(fps))

    def test_output_is_identical_across_runs_and_job_counts(self):
        _, first = self.sarif("mm", "-j", "1", name="a.sarif")
        _, second = self.sarif("mm", "-j", "4", name="b.sarif")
        self.assertEqual(first, second)

    def test_fingerprints_survive_inserted_lines(self):
        before, _ = self.sarif("mm", name="before.sarif")
        self.tree.insert_lines("mm/alpha.c", 3, "/* one */\n/* two */\n\n")
        self.tree.insert_lines("include/linux/page-flags.h", 10, "/* moved */\n")
        after, _ = self.sarif("mm", name="after.sarif")

        def by_fp(s):
            return {list(r["partialFingerprints"].values())[0]:
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    for r in s["runs"][0]["results"]}
        b, a = by_fp(before), by_fp(after)
        self.assertEqual(set(b), set(a))
        self.assertTrue(any(a[k] != b[k] for k in b), "lines should have moved")

    def test_baseline_hides_known_findings_and_shows_new_ones(self):
        base = os.path.join(self.out, "base.txt")
        self.scan("mm", "--write-baseline", base)
        with open(base) as f:
            self.assertTrue(f.readline().startswith("# hvo-scan baseline v1"))
        self.tree.insert_lines("mm/alpha.c", 4, "\n\n")  # shift lines: still known
        proc = self.scan("mm", "--baseline", base, expect_status=0)
        self.assertRegex(proc.stdout, r"(?m)^hvo-scan: 3 units, \d+ checks, 0 new findings \(\d+ known")
        with open(self.tree.path("mm/beta.c"), "a") as f:
            f.write("\nunsigned long beta_more(struct page *page)\n{\n"
                    "\tIS_ERR(page);\n\treturn page_fixed_fake_head(page)->flags;\n}\n")
        proc = self.scan("mm", "--baseline", base)
        new = [l for l in proc.stdout.splitlines() if ": warning: " in l]
        self.assertEqual(len(new), 1, proc.stdout)
        self.assertTrue(new[0].startswith("mm/beta.c:"), new)

    def test_gcc_database_gives_the_same_findings_with_one_note(self):
        clang_sarif, _ = self.sarif("mm", name="clang.sarif")
        gcc_dir = os.path.join(self.tree.scratch, "gcc-build")
        self.tree.write_database(gcc_dir, clang_style=False)
        shutil.copy(self.tree.path(".config"), gcc_dir)
        path = os.path.join(self.out, "gcc.sarif")
        proc = self.scan("-p", gcc_dir, "--sarif", path, "mm")
        with open(path) as f:
            gcc_sarif = json.load(f)
        self.assertEqual(sarif_findings(gcc_sarif), sarif_findings(clang_sarif))
        notes = [l for l in proc.stderr.splitlines() if "dropped" in l]
        self.assertEqual(len(notes), 1, proc.stderr)
        for flag in GCC_ONLY:
            self.assertIn(flag, notes[0])
        for flag in SHARED:
            self.assertNotIn(flag, notes[0])
        self.assertNotIn("error", proc.stderr)
        # -Wp,-MMD,<file> is removed: nothing is written into the tree.
        self.assertFalse(os.path.exists(self.tree.path("mm/.alpha.o.d")))

    def test_export_fixes_lists_each_reported_finding(self):
        fixes = os.path.join(self.out, "fixes.yaml")
        proc = self.scan("mm", "--export-fixes", fixes)
        with open(fixes) as f:
            text = f.read()
        self.assertIn("Diagnostics:", text)
        warnings = [l for l in proc.stdout.splitlines() if ": warning: " in l]
        self.assertEqual(text.count("DiagnosticName:"), len(warnings))

    def test_config_file_sets_checks_and_checks_flag_overrides_it(self):
        check = sorted(c for _, _, c in expected_findings(self.tree.root, ["mm/alpha.c"]))[0]
        config = os.path.join(self.out, "config.yaml")
        with open(config, "w") as f:
            f.write("Checks: '-*,%s'\nCheckOptions:\n  some-option: 1\n" % check)
        proc = self.scan("mm", "--config-file", config)
        self.assertRegex(proc.stdout, r"(?m)^hvo-scan: 3 units, 1 checks, ")
        self.assertRegex(proc.stdout, r"(?m)^  %s +\d+$" % re.escape(check))
        # A configuration that enables nothing, overridden by --checks.
        with open(config, "w") as f:
            f.write("Checks: '-*'\n")
        self.scan("mm", "--config-file", config, expect_status=2)
        proc = self.scan("mm", "--config-file", config, "--checks", "-*," + check)
        self.assertRegex(proc.stdout, r"(?m)^  %s +[1-9]\d*$" % re.escape(check))

    def test_clean_selection_exits_zero(self):
        proc = self.scan("mm/gamma.c", expect_status=0)
        self.assertRegex(proc.stdout, r"(?m)^  total +0$")

    def test_paths_select_units(self):
        sarif, _ = self.sarif("lib")
        self.assertEqual(sarif_findings(sarif), expected_findings(self.tree.root, ["lib/delta.c"]))

    def test_bad_inputs_are_one_line_errors_with_status_2(self):
        root = self.tree.root
        broken = os.path.join(self.out, "broken")
        os.makedirs(broken)
        shutil.copy(self.tree.path(".config"), broken)
        with open(os.path.join(broken, "compile_commands.json"), "w") as f:
            f.write('[\n {"directory": "/", "file": "a.c",\n  "command": "cc a.c"\n ,,\n]\n')
        shapeless = os.path.join(self.out, "shapeless")
        os.makedirs(shapeless)
        shutil.copy(self.tree.path(".config"), shapeless)
        with open(os.path.join(shapeless, "compile_commands.json"), "w") as f:
            f.write('[\n {"directory": "/", "file": "a.c", "command": "cc a.c"},\n'
                    ' {"directory": "/", "command": "cc b.c"}\n]\n')
        noconfig = os.path.join(self.out, "noconfig")
        os.makedirs(noconfig)
        shutil.copy(self.tree.path("compile_commands.json"), noconfig)
        bad_config = os.path.join(self.out, "bad.clang-tidy")
        with open(bad_config, "w") as f:
            f.write("Checks: [unclosed\n")
        bad_baseline = os.path.join(self.out, "bad-baseline.txt")
        with open(bad_baseline, "w") as f:
            f.write("# hvo-scan baseline v1\nnot-a-fingerprint x y\n")
        cases = [
            (["--bogus"], "unknown option"),
            (["-j", "zero"], "-j needs"),
            (["--sarif"], "needs a value"),
            (["--tree", os.path.join(self.out, "missing")], "no such directory"),
            (["--tree", noconfig], "no .config"),
            (["--tree", broken], "compile_commands.json: invalid JSON"),
            (["--tree", shapeless], "compile_commands.json:3: entry 2: missing string \"file\""),
            (["--tree", root, "fs"], "no such file or directory"),
            (["--tree", root, "include"], "no translation unit"),
            (["--tree", root, "--checks", "-*,no-such-check"], "enable no check"),
            (["--tree", root, "--config-file", bad_config], "not a clang-tidy configuration"),
            (["--tree", root, "--baseline", os.path.join(self.out, "nothere")], "nothere"),
            (["--tree", root, "--baseline", bad_baseline], "bad-baseline.txt:2:"),
            (["--tree", root, "--sarif", os.path.join(self.out, "nodir", "x.sarif")],
             "nodir/x.sarif: No such file or directory"),
        ]
        for args, message in cases:
            proc = run(args)
            self.assertEqual(proc.returncode, 2, (args, proc.stdout, proc.stderr))
            lines = proc.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, (args, proc.stderr))
            self.assertIn(message, lines[0], args)
            self.assertTrue(lines[0].startswith("hvo-scan: error: "), lines[0])
        os.remove(self.tree.path("mm/beta.c"))
        proc = run(["--tree", root, "mm"])
        self.assertEqual(proc.returncode, 2)
        self.assertIn("mm/beta.c: listed source file does not exist", proc.stderr)

    def test_unit_that_does_not_compile_makes_status_2(self):
        with open(self.tree.path("mm/gamma.c"), "a") as f:
            f.write("\nint gamma_broken(void) { return undeclared_name; }\n")
        proc = self.scan("mm", expect_status=2)
        self.assertIn("mm/gamma.c", proc.stderr)
        self.assertIn("clang-diagnostic-error", proc.stdout)

    def test_sparse_style_check_mode_takes_kbuild_arguments(self):
        # kbuild: $(CHECK) $(CHECKFLAGS) $(c_flags) file.c, in the tree's top.
        checkflags = ("-D__linux__ -Dlinux -D__STDC__ -Dunix -D__unix__ -Wbitwise "
                      "-Wno-return-void -Wno-unknown-attribute -D__x86_64__ --arch=x86_64 "
                      "-mlittle-endian -m64").split()
        c_flags = ["-Wp,-MMD,mm/.alpha.o.d"] + KERNEL_FLAGS.split() + GCC_ONLY
        argv = [ARGS.hvo_check] + checkflags + c_flags + ["mm/alpha.c"]
        proc = subprocess.run(argv, cwd=self.tree.root, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        want = expected_findings(self.tree.root, ["mm/alpha.c"])
        got = set()
        for line in proc.stderr.splitlines():
            m = re.match(r"^(\S+):(\d+):\d+: warning: .* \[(\S+)\]$", line)
            if m:
                got.add((m.group(1), int(m.group(2)), m.group(3)))
        self.assertEqual(got, want, proc.stderr)
        proc = subprocess.run([ARGS.hvo_check, "--fail-on-findings"] + argv[1:],
                              cwd=self.tree.root, capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 1)
        proc = subprocess.run([ARGS.hvo_check, "-O2"], cwd=self.tree.root,
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--hvo-scan", required=True)
    parser.add_argument("--hvo-check", required=True)
    parser.add_argument("--module", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
