#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Runs one checker fixture and compares its diagnostics with the
expectations written inline, clang-tidy style:

  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: <text> [hvo-check]
  // CHECK-NOTES: :[[@LINE-2]]:18: note: <text>
  // CHECK-FIXES: <line the fixed file must contain, in order>
  // FIXTURE-ARGS: <extra compiler arguments>
  // FIXTURE-CONFIG: <clang-tidy --config value>
  // FIXTURE-TIDY-ARGS: <extra clang-tidy arguments>
  // FIXTURE-EXPORT-FIXES: <text the --export-fixes YAML must contain>

Every warning/error in the fixture must be expected (same line and column,
expected text contained in the message; `{{regex}}` inside the text is a
regular expression, as in FileCheck) and every expectation must be met;
expected notes must be present.  With CHECK-FIXES the fixture is copied to
the scratch directory, fixed with -fix, and the lines checked in order.

Exit status: 0 pass, 1 mismatch, 2 bad input (missing file, unparsable
expectation, runner missing or crashing).  --expect-failure inverts 0/1 for
the harness self-tests.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys

EXPECT = re.compile(
    r"//\s*CHECK-(MESSAGES|NOTES):\s*:\[\[@LINE([+-]\d+)?\]\]:(\d+):\s*"
    r"(warning|error|note):\s*(.*?)\s*$")
FIXES = re.compile(r"//\s*CHECK-FIXES:\s*(.*?)\s*$")
DIRECTIVE = re.compile(r"//\s*FIXTURE-(ARGS|CONFIG|TIDY-ARGS|EXPORT-FIXES):\s*(.*?)\s*$")
DIAG = re.compile(r"^(.*?):(\d+):(\d+): (warning|error|note): (.*)$")


def text_matcher(text):
    """FileCheck-style text: literal, except {{regex}} parts."""
    pattern, rest = "", text
    while "{{" in rest:
        before, _, after = rest.partition("{{")
        regex, closed, rest = after.partition("}}")
        if not closed:
            return None
        pattern += re.escape(before) + "(?:" + regex + ")"
    pattern += re.escape(rest)
    try:
        return re.compile(pattern)
    except re.error:
        return None


def fail_input(message):
    print(f"check_fixture: error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_fixture(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        fail_input(f"{path}: cannot read fixture: {e.strerror}")
    expected, notes, fixes = [], [], []
    directives = {"ARGS": [], "CONFIG": None, "TIDY-ARGS": [], "EXPORT-FIXES": []}
    for number, text in enumerate(lines, start=1):
        if "CHECK-" in text and "//" in text:
            m = EXPECT.search(text)
            f = FIXES.search(text)
            if m:
                kind, offset, col, severity, message = m.groups()
                line = number + int(offset or 0)
                matcher = text_matcher(message)
                if matcher is None:
                    fail_input(f"{path}:{number}: bad {{{{regex}}}} in expectation: {message}")
                if line < 1 or line > len(lines):
                    fail_input(f"{path}:{number}: expectation points at line {line}, outside the file")
                entry = (line, int(col), severity, matcher, number)
                (notes if kind == "NOTES" else expected).append(entry)
            elif f:
                fixes.append((f.group(1), number))
            else:
                fail_input(f"{path}:{number}: unparsable expectation: {text.strip()}")
        m = DIRECTIVE.search(text)
        if m:
            key, value = m.groups()
            if key == "CONFIG":
                directives["CONFIG"] = value
            elif key == "EXPORT-FIXES":
                directives["EXPORT-FIXES"].append(value)
            else:
                directives[key] += shlex.split(value)
    return expected, notes, fixes, directives


def run_tool(args, fixture, directives, extra):
    command = [args.runner]
    if args.load:
        command += ["-load", args.load]
    command += [f"-checks=-*,{args.check}"]
    if directives["CONFIG"]:
        command += [f"--config={directives['CONFIG']}"]
    command += directives["TIDY-ARGS"] + extra + [fixture, "--", "-std=gnu11",
                                                  "-I", args.include]
    command += directives["ARGS"]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        fail_input(f"runner not found: {args.runner}")
    except subprocess.TimeoutExpired:
        fail_input(f"{fixture}: runner timed out after 120 s")
    if proc.returncode < 0 or proc.returncode > 1:
        sys.stderr.write(proc.stdout + proc.stderr)
        fail_input(f"{fixture}: runner exited with status {proc.returncode}: {shlex.join(command)}")
    return proc.stdout + proc.stderr, command


def diagnostics_in(output, fixture):
    real = os.path.realpath(fixture)
    found = []
    for line in output.splitlines():
        m = DIAG.match(line)
        if m and os.path.realpath(m.group(1)) == real:
            found.append((int(m.group(2)), int(m.group(3)), m.group(4), m.group(5)))
    return found


def compare(fixture, expected, notes, found):
    problems = []
    actual = [d for d in found if d[2] in ("warning", "error")]
    unmatched = list(actual)
    for line, col, severity, text, where in expected:
        match = next((d for d in unmatched if d[0] == line and d[1] == col
                      and d[2] == severity and text.search(d[3])), None)
        if match:
            unmatched.remove(match)
        else:
            problems.append(f"{fixture}:{where}: expected {severity} at {line}:{col} not produced: {text.pattern}")
    for line, col, severity, text in unmatched:
        problems.append(f"{fixture}:{line}:{col}: unexpected {severity}: {text}")
    actual_notes = [d for d in found if d[2] == "note"]
    for line, col, _, text, where in notes:
        if not any(d[0] == line and d[1] == col and text.search(d[3]) for d in actual_notes):
            problems.append(f"{fixture}:{where}: expected note at {line}:{col} not produced: {text.pattern}")
    return problems


def check_fixes(args, fixture, directives, fixes):
    os.makedirs(args.scratch, exist_ok=True)
    copy = os.path.join(args.scratch, os.path.basename(fixture))
    shutil.copyfile(fixture, copy)
    run_tool(args, copy, directives, ["-fix"])
    with open(copy, encoding="utf-8") as f:
        fixed = [l.strip() for l in f.read().split("\n") if "CHECK-" not in l]
    problems, position = [], 0
    for text, where in fixes:
        hit = next((i for i in range(position, len(fixed)) if text in fixed[i]), None)
        if hit is None:
            problems.append(f"{fixture}:{where}: fixed file lacks (in order): {text}")
        else:
            position = hit + 1
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runner", required=True, help="hvo-tidy or clang-tidy-19")
    parser.add_argument("--load", help="plugin to pass to the runner with -load")
    parser.add_argument("--check", required=True, help="check under test, e.g. hvo-shared-tail-write")
    parser.add_argument("--include", required=True, help="kernel-like fixture headers")
    parser.add_argument("--scratch", required=True, help="directory for fixed copies")
    parser.add_argument("--expect-failure", action="store_true",
                        help="harness self-test: pass only when the comparison fails")
    parser.add_argument("fixture")
    args = parser.parse_args()
    if not os.path.isfile(args.fixture):
        fail_input(f"{args.fixture}: no such fixture")
    if args.load and not os.path.isfile(args.load):
        fail_input(f"{args.load}: no such plugin")

    expected, notes, fixes, directives = parse_fixture(args.fixture)
    extra = []
    if directives["EXPORT-FIXES"]:
        os.makedirs(args.scratch, exist_ok=True)
        exported = os.path.join(args.scratch, "exported-fixes.yaml")
        if os.path.exists(exported):
            os.remove(exported)
        extra = [f"--export-fixes={exported}"]
    output, command = run_tool(args, args.fixture, directives, extra)
    problems = compare(args.fixture, expected, notes, diagnostics_in(output, args.fixture))
    if "Found compiler error" in output:
        problems.append(f"{args.fixture}: does not compile cleanly (see output)")
    if fixes:
        problems += check_fixes(args, args.fixture, directives, fixes)
    if directives["EXPORT-FIXES"]:
        try:
            with open(exported, encoding="utf-8") as f:
                yaml_text = f.read()
        except OSError:
            yaml_text = ""
            problems.append(f"{args.fixture}: --export-fixes wrote no {exported}")
        for text in directives["EXPORT-FIXES"]:
            if text not in yaml_text:
                problems.append(f"{args.fixture}: exported fixes lack: {text}")

    if args.expect_failure:
        if problems:
            print(f"harness rejected the fixture as it should ({len(problems)} problem(s)):")
            print("\n".join(problems))
            return 0
        print(f"{args.fixture}: harness accepted a fixture it must reject")
        return 1
    if problems:
        print("$ " + shlex.join(command))
        print(output)
        print("\n".join(problems))
        return 1
    print(f"{args.fixture}: {len(expected)} expected diagnostic(s), {len(notes)} note(s), "
          f"{len(fixes)} fix(es) matched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
