#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Print, NUL-separated, one `clang-19 -fsyntax-only` command per unit of a
compile database under the given paths: the reference the hvo-scan benchmark
compares against.  The compiler is always clang-19 and the unit's own output
and dependency-file flags are removed, so nothing is written into the tree."""
import json
import os
import shlex
import sys


def syntax_only(entry, extra):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = ["clang-19"]
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a == "-c" or a.startswith("-Wp,-MMD,") or a.startswith("-Wp,-MD,"):
            continue
        out.append(a)
    return out + ["-fsyntax-only"] + extra


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: syntax_only_units.py compile_commands.json PATH... [-- EXTRA_FLAGS]")
    rest = sys.argv[2:]
    extra = []
    if "--" in rest:
        extra = rest[rest.index("--") + 1:]
        rest = rest[:rest.index("--")]
    with open(sys.argv[1]) as f:
        db = json.load(f)
    prefixes = [os.path.normpath(p) for p in rest]
    units = sorted({e["file"]: e for e in db}.values(), key=lambda e: e["file"])
    for e in units:
        path = os.path.normpath(os.path.join(e["directory"], e["file"]))
        if any(path == p or path.startswith(p + os.sep) for p in prefixes):
            cmd = "cd %s && %s" % (shlex.quote(e["directory"]),
                                   " ".join(shlex.quote(a) for a in syntax_only(e, extra)))
            sys.stdout.write(cmd + "\0")


if __name__ == "__main__":
    main()
