#!/usr/bin/env python3
"""Static plugins against their .so twins, in one process.

    twin_test.py report TOOL STATIC_SPEC SO_SPEC --report RE [options] -- CMD...
    twin_test.py drcov TOOL SO_PLUGIN READER [options] -- CMD...
    twin_test.py cov-bb TOOL BB_TOOL SO_BB READER [options] -- CMD...

report: runs `TOOL -d plugin -D LOG -plugin STATIC_SPEC -plugin SO_SPEC CMD`.
The static plugin comes first in the tool's plugin list, so each of its lines
comes just before the .so's twin line: lines printed while the program runs
come in equal pairs, and the exit reports (from the first line matching
--report on) are two equal halves. Options:
  --status N        expected exit status (default 0)
  --expect RE       some line of the static report matches RE (repeatable)
  --stepcount PATH  the ptrace single-step count of CMD is the ground truth:
  --value RE        every number RE captures in the log equals it
  --stderr RE       the tool's stderr matches RE (for rejected arguments;
                    the run then only checks status and stderr)
  --processes       CMD forks: its processes write to the log one after
                    another, each its static lines then its .so lines

drcov: runs `TOOL -plugin drcov,filename=static.%p.cov -plugin
SO_PLUGIN,filename=so.%p.cov CMD`; every process writes both files; each
static file must load with READER (tests/examples/drcov_read.py) and hold the
same module table and the same set of blocks as the .so's file of its
process. Options: --status N, --expect-module NAME (in some static file), --min-files N,
--stepcount PATH (one process: every executed pc lies in a block and every
block starts at an executed pc).

cov-bb: the composed tool (drcov and bb) runs with `-plugin
drcov,filename=cov -plugin bb,ARGS -plugin SO_BB,ARGS`: the bb reports of
the static plugin and the .so are equal, the coverage file loads with READER,
and, with --same-as BB_TOOL run, BB_TOOL (qplug-bb) reports the same counts
on its own (for programs whose counts do not depend on addresses).
Options: --bb-args ARGS (default inline=on), --same-as, --stepcount PATH.
"""

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

TIMEOUT = 300


class Fail(Exception):
    pass


def run(argv, cwd, log=None):
    full = list(argv[:1])
    if log:
        full += ["-d", "plugin", "-D", log]
    full += argv[1:]
    p = subprocess.run(full, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    return p.returncode, p.stderr.decode(errors="replace")


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def split_twins(lines, report_re):
    """(static report, runtime line count): checks the pairs and the halves."""
    start = next((i for i, l in enumerate(lines) if re.search(report_re, l)), None)
    if start is None:
        raise Fail("no log line matches the report start %r" % report_re)
    prefix, tail = lines[:start], lines[start:]
    # Run-time lines come per event (a translation, an execution): the static
    # plugin's lines, then the .so's same lines. Take the shortest doubled chunk.
    i, events = 0, 0
    while i < len(prefix):
        k = next((k for k in range(1, (len(prefix) - i) // 2 + 1)
                  if prefix[i:i + k] == prefix[i + k:i + 2 * k]), None)
        if k is None:
            raise Fail("run-time line %d starts no repeated group (static then .so): %s" %
                       (i + 1, prefix[i]))
        i += 2 * k
        events += 1
    if len(tail) % 2:
        raise Fail("the reports have an odd number (%d) of lines in all" % len(tail))
    half = len(tail) // 2
    static, so = tail[:half], tail[half:]
    for i, (a, b) in enumerate(zip(static, so)):
        if a != b:
            raise Fail("report line %d differs:\n  static: %s\n  .so:    %s" % (i + 1, a, b))
    return static, events


def split_doubled(lines):
    """Several processes, each printing its static then its .so lines (the
    processes one after another): the log must be a sequence of doubled
    chunks X X. Returns the first halves, or raises Fail."""
    n = len(lines)
    ok = [False] * (n + 1)  # ok[i]: lines[i:] splits into doubled chunks
    step = [0] * (n + 1)
    ok[n] = True
    for i in range(n - 1, -1, -1):
        for k in range(1, (n - i) // 2 + 1):
            if ok[i + 2 * k] and lines[i:i + k] == lines[i + k:i + 2 * k]:
                ok[i], step[i] = True, k
                break
    if not ok[0]:
        raise Fail("the log is not a sequence of repeated groups (static, then .so)")
    static, i = [], 0
    while i < n:
        static += lines[i:i + step[i]]
        i += 2 * step[i]
    return static


def stepcount(tool, cmd, work, pcs=False):
    out = os.path.join(work, "truth")
    argv = [tool, "--output", out]
    if pcs:
        argv += ["--pcs", os.path.join(work, "pcs")]
    p = subprocess.run(argv + ["--"] + cmd, cwd=work, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, timeout=TIMEOUT)
    if 125 <= p.returncode <= 127:
        raise Fail("stepcount failed (%d)" % p.returncode)
    for line in read_lines(out):
        if line.startswith("insns:"):
            return int(line.split()[1])
    raise Fail("stepcount wrote no count")


def check_values(lines, value_re, truth, what):
    values = [int(m.group(1)) for l in lines for m in [re.search(value_re, l)] if m]
    if len(values) < 2:
        raise Fail("%d values match %r, expected both reports'" % (len(values), value_re))
    if any(v != truth for v in values):
        raise Fail("%s: values %s, single-step count %d" % (what, values, truth))
    print("single-step count %d = %s" % (truth, values))


def do_report(a, work):
    log = os.path.join(work, "log")
    status, err = run([a.tool, "-plugin", a.static, "-plugin", a.so] + a.cmd, work, log)
    lines = read_lines(log)
    try:
        if status != a.status:
            raise Fail("exit status %d, expected %d" % (status, a.status))
        if a.stderr:
            if not re.search(a.stderr, err, re.M):
                raise Fail("stderr does not match %r" % a.stderr)
            print("PASS: status %d, stderr matches" % status)
            return
        if a.processes:
            if not any(re.search(a.report, l) for l in lines):
                raise Fail("no log line matches the report start %r" % a.report)
            static, n_runtime = split_doubled(lines), 0
        else:
            static, n_runtime = split_twins(lines, a.report)
        for pattern in a.expect:
            if not any(re.search(pattern, l) for l in static):
                raise Fail("no static report line matches %r" % pattern)
        if a.stepcount:
            check_values(lines, a.value, stepcount(a.stepcount, a.cmd, work), "insns")
        print("PASS: %d report lines equal, %d run-time events printed the same" %
              (len(static), n_runtime))
        for l in static[-3:]:
            print("  " + l)
    except Fail:
        print("--- log (first 40 lines):\n" + "\n".join(lines[:40]))
        print("--- stderr:\n" + err[:2000])
        raise


def load_reader(path):
    spec = importlib.util.spec_from_file_location("drcov_read", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cov_blocks(reader, path):
    """(module table, set of (module path, start, size)) of a valid file."""
    with open(path, "rb") as f:
        cov = reader.parse(f.read())
    reader.check(cov)
    mods = [(m["path"], m["base"], m["end"], m["entry"]) for m in cov["modules"]]
    return mods, {(mods[mod][0], start, size) for start, size, mod in cov["bbs"]}


def check_reader(reader_path, path, expect_module=None):
    argv = [sys.executable, reader_path, path, "--quiet"]
    if expect_module:
        argv += ["--expect-module", expect_module]
    if subprocess.run(argv).returncode != 0:
        raise Fail("drcov_read.py rejects %s" % os.path.basename(path))


def check_pcs(blocks, mods, pcs_file):
    """groundtruth.sh's check: executed pcs == covered pcs, block starts executed."""
    base = {m[0]: m[1] for m in mods}
    ranges = sorted((base[p] + s, base[p] + s + n) for p, s, n in blocks)
    pcs = {int(l.split()[0], 16) for l in read_lines(pcs_file)}
    missing = [pc for pc in pcs if not any(b <= pc < e for b, e in ranges)]
    extra = [b for b, _ in ranges if b not in pcs]
    if missing or extra:
        raise Fail("%d executed pcs outside blocks, %d block starts never executed" %
                   (len(missing), len(extra)))
    print("coverage = the %d single-stepped pcs (%d blocks)" % (len(pcs), len(ranges)))


def do_drcov(a, work):
    reader = load_reader(a.reader)
    status, err = run([a.tool, "-plugin", "drcov,filename=static.%p.cov", "-plugin",
                       a.so + ",filename=so.%p.cov"] + a.cmd, work)
    if status != a.status:
        raise Fail("exit status %d, expected %d\n%s" % (status, a.status, err[:2000]))
    statics = sorted(f for f in os.listdir(work) if re.fullmatch(r"static\.\d+\.cov", f))
    if len(statics) < a.min_files:
        raise Fail("%d static coverage files, expected at least %d" % (len(statics), a.min_files))
    total, identical, found = 0, 0, not a.expect_module
    for name in statics:
        path, twin = os.path.join(work, name), os.path.join(work, "so" + name[len("static"):])
        if not os.path.exists(twin):
            raise Fail("%s has no .so twin %s" % (name, os.path.basename(twin)))
        check_reader(a.reader, path)
        mods, blocks = cov_blocks(reader, path)
        so_mods, so_blocks = cov_blocks(reader, twin)
        if mods != so_mods:
            raise Fail("%s: module tables differ:\n  static: %s\n  .so:    %s" %
                       (name, mods, so_mods))
        if blocks != so_blocks:
            raise Fail("%s: %d blocks only in the static file, %d only in the .so's" %
                       (name, len(blocks - so_blocks), len(so_blocks - blocks)))
        if a.expect_module and any(os.path.basename(m[0]) == a.expect_module for m in mods):
            check_reader(a.reader, path, a.expect_module)
            found = True
        if a.stepcount:
            stepcount(a.stepcount, a.cmd, work, pcs=True)
            check_pcs(blocks, mods, os.path.join(work, "pcs"))
        total += len(blocks)
        with open(path, "rb") as f1, open(twin, "rb") as f2:
            identical += f1.read() == f2.read()
    if not found:
        raise Fail("no static coverage file has module %s" % a.expect_module)
    print("PASS: %d processes, %d blocks, same modules and blocks as libdrcov.so "
          "(%d files byte-identical)" % (len(statics), total, identical))


def do_cov_bb(a, work):
    log = os.path.join(work, "log")
    cov = os.path.join(work, "cov")
    status, err = run([a.tool, "-plugin", "drcov,filename=" + cov, "-plugin", "bb," + a.bb_args,
                       "-plugin", a.so + "," + a.bb_args] + a.cmd, work, log)
    if status != a.status:
        raise Fail("exit status %d, expected %d\n%s" % (status, a.status, err[:2000]))
    lines = read_lines(log)
    static, _ = split_twins(lines, r"^(CPU[0-9]+|Total): ")
    check_reader(a.reader, cov)
    if a.expect_module:
        check_reader(a.reader, cov, a.expect_module)
    if a.same_as:
        alone = os.path.join(work, "alone.log")
        run([a.bb_tool, "-plugin", "bb," + a.bb_args] + a.cmd, work, alone)
        if read_lines(alone) != static:
            raise Fail("%s reports %s, the composed tool %s" %
                       (os.path.basename(a.bb_tool), read_lines(alone), static))
    if a.stepcount:
        check_values(lines, r"^Total: bb's: \d+, insns: (\d+)$",
                     stepcount(a.stepcount, a.cmd, work), "bb insns")
    print("PASS: bb reports equal (%s), coverage file valid" % static[-1])


def absolute(path):
    return os.path.abspath(path) if "/" in path and os.path.exists(path) else path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("report")
    r.add_argument("tool")
    r.add_argument("static")
    r.add_argument("so")
    r.add_argument("--report", default="^")
    r.add_argument("--status", type=int, default=0)
    r.add_argument("--expect", action="append", default=[])
    r.add_argument("--stepcount")
    r.add_argument("--value")
    r.add_argument("--stderr")
    r.add_argument("--processes", action="store_true")
    d = sub.add_parser("drcov")
    d.add_argument("tool")
    d.add_argument("so")
    d.add_argument("reader")
    d.add_argument("--expect-module")
    d.add_argument("--min-files", type=int, default=1)
    d.add_argument("--stepcount")
    d.add_argument("--status", type=int, default=0)
    c = sub.add_parser("cov-bb")
    c.add_argument("tool")
    c.add_argument("bb_tool")
    c.add_argument("so")
    c.add_argument("reader")
    c.add_argument("--bb-args", default="inline=on")
    c.add_argument("--status", type=int, default=0)
    c.add_argument("--expect-module")
    c.add_argument("--same-as", action="store_true")
    c.add_argument("--stepcount")
    if "--" not in sys.argv:
        ap.error("missing -- CMD")
    split = sys.argv.index("--")
    a = ap.parse_args(sys.argv[1:split])
    a.cmd = sys.argv[split + 1:]
    if not a.cmd:
        ap.error("missing CMD")
    # The runs happen in a temporary directory: make relative paths absolute.
    a.cmd[0] = absolute(a.cmd[0])
    for key in ("tool", "bb_tool", "reader", "stepcount"):
        if getattr(a, key, None):
            setattr(a, key, absolute(getattr(a, key)))
    for key in ("static", "so"):
        if getattr(a, key, None):
            path, sep, args = getattr(a, key).partition(",")
            setattr(a, key, absolute(path) + sep + args)
    with tempfile.TemporaryDirectory(prefix="qplug-twin-") as work:
        try:
            {"report": do_report, "drcov": do_drcov, "cov-bb": do_cov_bb}[a.mode](a, work)
        except (Fail, subprocess.TimeoutExpired) as e:
            print("FAIL: %s" % e)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
