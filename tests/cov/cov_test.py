#!/usr/bin/env python3
"""qplug-cov end-to-end tests: cov_prog runs under qplug with the drcov plugin,
qplug-cov maps the coverage to lines, and the result must match the markers in
cov_prog.c (see its header comment).

    cov_test.py TEST --qplug Q --drcov LIBDRCOV --cov QPLUG_COV --prog PROG
                --source cov_prog.c --workdir DIR

TEST is one of: lines, merge, pipeline, summary, formats, errors, fuzz, html,
defaults, html_output, progress.
Exit status 0 on success, 1 on failure, 77 when a needed tool is missing.
"""

import argparse
import glob
import os
import random
import re
import shutil
import struct
import subprocess
import sys

SKIP = 77
KINDS = ("hit", "miss", "arg", "noarg")


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def markers(source):
    """{kind: [line numbers]} from the /* kind */ comments of the source."""
    found = {k: [] for k in KINDS}
    with open(source) as f:
        for number, text in enumerate(f, 1):
            m = re.search(r"/\* (%s) \*/" % "|".join(KINDS), text)
            if m:
                found[m.group(1)].append(number)
    for kind in KINDS:
        check(found[kind], "no /* %s */ line in %s" % (kind, source))
    return found


def parse_lcov(path, source):
    """(lines {n: count}, functions {name: count}) of source's SF record."""
    lines, functions, current = {}, {}, None
    with open(path) as f:
        for text in f:
            text = text.rstrip("\n")
            if text.startswith("SF:"):
                current = text[3:]
            elif text == "end_of_record":
                current = None
            elif current == source and text.startswith("DA:"):
                n, count = text[3:].split(",")[:2]
                lines[int(n)] = int(count)
            elif current == source and text.startswith("FNDA:"):
                count, name = text[5:].split(",", 1)
                functions[name] = int(count)
    check(lines, "%s: no DA lines for %s" % (path, source))
    return lines, functions


class Env:
    def __init__(self, args):
        self.a = args
        self.source = os.path.realpath(args.source)
        self.marks = markers(args.source)
        shutil.rmtree(args.workdir, ignore_errors=True)
        os.makedirs(args.workdir)
        self.n = 0

    def path(self, name):
        return os.path.join(self.a.workdir, name)

    def run(self, *prog_args, name=None):
        """Runs cov_prog under qplug with drcov; returns the coverage file."""
        self.n += 1
        out = self.path(name or "run%d.drcov" % self.n)
        cmd = [self.a.qplug, "-plugin", "%s,filename=%s" % (self.a.drcov, out), self.a.prog]
        subprocess.run(cmd + list(prog_args), check=True, stdout=subprocess.DEVNULL)
        check(os.path.exists(out), "qplug wrote no %s" % out)
        return out

    def cov(self, *args, env=None):
        p = subprocess.run([self.a.cov] + list(args), capture_output=True, text=True, env=env,
                           errors="replace")
        check(p.returncode >= 0, "qplug-cov %s killed by signal %d" % (args, -p.returncode))
        return p

    def lcov(self, *drcov_files):
        self.n += 1
        out = self.path("report%d.info" % self.n)
        p = self.cov("--module", os.path.basename(self.a.prog), "--lcov", out, *drcov_files)
        check(p.returncode == 0, "qplug-cov failed: %s" % p.stderr)
        return parse_lcov(out, self.source)

    def expect(self, lines, hit_kinds, what):
        """Lines of hit_kinds must have a count > 0, all other marked lines 0."""
        for kind in KINDS:
            for n in self.marks[kind]:
                check(n in lines, "%s: /* %s */ line %d missing from the tracefile" % (what, kind, n))
                if kind in hit_kinds:
                    check(lines[n] > 0, "%s: /* %s */ line %d not hit" % (what, kind, n))
                else:
                    check(lines[n] == 0, "%s: /* %s */ line %d hit (%d)" % (what, kind, n, lines[n]))
        print("%s: %d marked lines as expected" % (what, sum(len(v) for v in self.marks.values())))


def test_lines(e):
    lines, functions = e.lcov(e.run())
    e.expect(lines, ("hit", "noarg"), "no argument")
    check(functions.get("main", 0) > 0 and functions.get("square", 0) > 0, "main/square not hit")
    check(functions.get("never_called") == 0, "never_called: %s" % functions.get("never_called"))
    check(functions.get("with_argument") == 0, "with_argument hit without an argument")
    check(functions.get("without_argument", 0) > 0, "without_argument not hit")
    lines, _ = e.lcov(e.run("some-argument"))
    e.expect(lines, ("hit", "arg"), "one argument")


def test_merge(e):
    a, b = e.run(), e.run("x")
    lines, functions = e.lcov(a, b)
    e.expect(lines, ("hit", "arg", "noarg"), "merged")
    check(functions.get("with_argument", 0) > 0 and functions.get("without_argument", 0) > 0,
          "merged: a function of one run is missing")
    check(functions.get("never_called") == 0, "merged: never_called hit")
    # The same file twice changes nothing: blocks are counted once.
    check(e.lcov(a, a)[0] == e.lcov(a)[0], "a file merged with itself changed the counts")


def test_pipeline(e):
    """One drcov file per process of a followed shell pipeline, merged."""
    pattern = e.path("cov-%p.drcov")
    script = "%s | cat >/dev/null; %s arg" % (e.a.prog, e.a.prog)
    subprocess.run([e.a.qplug, "-plugin", "%s,filename=%s" % (e.a.drcov, pattern),
                    "/bin/sh", "-c", script], check=True, stdout=subprocess.DEVNULL)
    files = sorted(glob.glob(e.path("cov-*.drcov")))
    check(len(files) >= 3, "expected a file per process, got %s" % files)
    lines, _ = e.lcov(*files)
    e.expect(lines, ("hit", "arg", "noarg"), "pipeline (%d files)" % len(files))
    p = e.cov(*files)
    check(p.returncode == 0 and "%d drcov files" % len(files) in p.stdout, p.stdout + p.stderr)


def test_summary(e):
    a = e.run()
    p = e.cov("--module", os.path.basename(e.a.prog), a)
    check(p.returncode == 0, p.stderr)
    print(p.stdout)
    lines, _ = e.lcov(a)
    hit, total = sum(1 for c in lines.values() if c), len(lines)
    row = re.search(r"^ +(\d+) +(\d+)/(\d+) [\d.]+% +(\d+)/(\d+) +(\S+)$", p.stdout, re.M)
    check(row, "no module row in the summary")
    check((int(row.group(2)), int(row.group(3))) == (hit, total),
          "summary says %s/%s lines, the tracefile %d/%d" % (row.group(2), row.group(3), hit, total))
    check(row.group(6) == os.path.realpath(e.a.prog), "module path %s" % row.group(6))
    check(re.search(r"^  0/\d+ 0\.0% +never_called \[not run\] \(cov_prog\.c:\d+\)$", p.stdout, re.M),
          "never_called not listed as not run")
    check(re.search(r"^  \d+/\d+ [\d.]+% +main \(cov_prog\.c:\d+\)$", p.stdout, re.M), "no main row")
    # Every module: libc and the loader are listed too, with or without debug info.
    p = e.cov("--all-modules", "--no-functions", a)
    check(p.returncode == 0 and "libc.so" in p.stdout and "never_called" not in p.stdout, p.stdout)
    check(e.cov("--module", "no-such-module", a).returncode == 0, "empty selection failed")
    p = e.cov("--all-modules", "--exclude-module", "libc", "--no-functions", a)
    check(p.returncode == 0 and "libc" not in p.stdout and "cov_prog" in p.stdout, p.stdout)
    # Source filters: the directory of cov_prog.c keeps every line, another none.
    p = e.cov("--module", "cov_prog", "--source-prefix", os.path.dirname(e.source), a)
    check(re.search(r" %d/%d " % (hit, total), p.stdout), "--source-prefix: " + p.stdout)
    p = e.cov("--module", "cov_prog", "--source-prefix", "/nonexistent/", a)
    check(re.search(r" 0/0 ", p.stdout) and not re.search(r" main \(cov_prog", p.stdout),
          "--source-prefix: " + p.stdout)


def read_drcov(path):
    """(module lines [(base, end, entry, path)], blocks [(start, size, mod)]) of a v2 file."""
    data = open(path, "rb").read()
    head, _, rest = data.partition(b"BB Table: ")
    count_line, _, records = rest.partition(b"\n")
    modules = []
    for line in head.decode().splitlines():
        m = re.match(r"\s*\d+, (0x[0-9a-f]+), (0x[0-9a-f]+), (0x[0-9a-f]+), (.*)$", line)
        if m:
            modules.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16),
                            m.group(4)))
    blocks = list(struct.iter_unpack("<IHH", records))
    check(len(blocks) == int(count_line.split()[0]), "bad drcov file %s" % path)
    return modules, blocks


def load_segments(elf):
    """[(p_offset, p_vaddr, executable)] of the PT_LOAD headers of a 64-bit ELF file."""
    data = open(elf, "rb").read()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    segments = []
    for i in range(phnum):
        p_type, p_flags, p_offset, p_vaddr = struct.unpack_from("<IIQQ", data, phoff + i * phentsize)
        if p_type == 1:
            segments.append((p_offset, p_vaddr, bool(p_flags & 1)))
    return segments


def test_formats(e):
    """The other drcov layouts (DynamoRIO's module tables v1, v3 and v5, text
    BB tables, code segments listed as their own modules) map the same blocks
    to the same lines."""
    good = e.run()
    expected, _ = e.lcov(good)
    modules, blocks = read_drcov(good)
    prog = os.path.realpath(e.a.prog)
    mod_id = [m[3] for m in modules].index(prog)
    base, end, entry, _ = modules[mod_id]
    mine = [(start, size) for start, size, mod in blocks if mod == mod_id]
    header = b"DRCOV VERSION: %d\nDRCOV FLAVOR: drcov\n"
    binary = b"".join(struct.pack("<IHH", start, size, 0) for start, size in mine)

    v1 = (header % 2 + b"Module Table: 1\n0, %d, %s\n" % (end - base, prog.encode()) +
          b"BB Table: %d bbs\n" % len(mine) + binary)
    v3 = (header % 2 + b"Module Table: version 3, count 1\n"
          b"Columns: id, containing_id, start, end, entry, path\n"
          b" 0,  0, 0x%016x, 0x%016x, 0x%016x, %s\n" % (base, end, entry, prog.encode()) +
          b"BB Table: %d bbs\n" % len(mine) + binary)
    # v5: the code segment is a module line of its own (containing_id 0, its
    # file offset in the offset column), and its blocks count from its start.
    code_offset, code_vaddr, _ = next(s for s in load_segments(prog) if s[2])
    seg = code_vaddr & ~0xfff
    lines = [b"module id, start, size:"]
    for start, size in mine:
        in_code = seg <= start < seg + 0x100000
        lines.append(b"module[%3d]: 0x%016x, %3d" % (1 if in_code else 0,
                                                    start - seg if in_code else start, size))
    v5 = (header % 3 + b"Module Table: version 5, count 2\n"
          b"Columns: id, containing_id, start, end, entry, offset, preferred_base, path\n"
          b" 0,   0, 0x%016x, 0x%016x, 0x%016x, %016x, 0x0000000000000000, %s\n"
          % (base, base + seg, entry, 0, prog.encode()) +
          b" 1,   0, 0x%016x, 0x%016x, 0x%016x, %016x, 0x0000000000000000, %s\n"
          % (base + seg, end, 0, code_offset & ~0xfff, prog.encode()) +
          b"BB Table: %d bbs\n" % len(mine) + b"\n".join(lines) + b"\n")
    for name, data in (("v1", v1), ("v3", v3), ("v5-text", v5)):
        path = e.path(name + ".drcov")
        open(path, "wb").write(data)
        lines_seen, _ = e.lcov(path)
        check(lines_seen == expected, "%s: lines differ from the v2 file: %s vs %s" %
              (name, sorted(lines_seen.items()), sorted(expected.items())))
        print("%s: same %d lines as the v2 file" % (name, len(expected)))


def one_line_error(e, p, name, problem_re, what):
    check(p.returncode == 1, "%s: exit status %d, expected 1 (%s)" % (what, p.returncode, p.stderr))
    err = p.stderr.strip("\n")
    check("\n" not in err, "%s: more than one line of error:\n%s" % (what, err))
    check(re.fullmatch(r"qplug-cov: %s: %s" % (re.escape(name), problem_re), err),
          "%s: unexpected message %r" % (what, err))
    print("%s: %s" % (what, err))


def rewrite_module_path(src, dst, new_path):
    data = open(src, "rb").read()
    prog = os.path.realpath(os.path.dirname(src))  # cov_prog's line ends with its path
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if line.rstrip().endswith(b"cov_prog"):
            lines[i] = line[:line.rfind(b", ") + 2] + new_path.encode()
            break
    else:
        raise Failure("no cov_prog module line in %s (%s)" % (src, prog))
    open(dst, "wb").write(b"\n".join(lines))


def test_errors(e):
    good = e.run()
    data = open(good, "rb").read()
    missing = e.path("missing.drcov")
    one_line_error(e, e.cov(missing), missing, "No such file or directory", "missing file")
    one_line_error(e, e.cov(e.a.workdir), e.a.workdir, "is a directory", "directory")
    one_line_error(e, e.cov(e.source), e.source, r"not a drcov file \(.*\)", "C source")
    one_line_error(e, e.cov(e.a.prog), e.a.prog, r"not a drcov file \(.*\)", "ELF file")
    empty = e.path("empty.drcov")
    open(empty, "wb").close()
    one_line_error(e, e.cov(empty), empty, "empty file, not a drcov file", "empty file")
    cut = e.path("cut.drcov")
    open(cut, "wb").write(data[:-5])
    one_line_error(e, e.cov(cut), cut, "truncated file: .*", "truncated BB table")
    open(cut, "wb").write(data[:data.index(b"Columns:") + 20])
    one_line_error(e, e.cov(cut), cut, "truncated file: .*", "truncated module table")
    # A bad file stops everything, even after good ones.
    one_line_error(e, e.cov(good, cut), cut, "truncated file: .*", "good then truncated")

    # A module that is gone: a warning, then the report without its lines.
    gone = e.path("gone.drcov")
    rewrite_module_path(good, gone, "/nonexistent/cov_prog")
    p = e.cov("--lcov", e.path("gone.info"), gone)
    check(p.returncode == 0, "missing module: exit status %d: %s" % (p.returncode, p.stderr))
    check(re.fullmatch(r"qplug-cov: %s: module /nonexistent/cov_prog: No such file or directory "
                       r"\(skipped\)\n" % re.escape(gone), p.stderr), "warning: %r" % p.stderr)
    check("cov_prog.c" not in open(e.path("gone.info")).read(), "lines of a missing module")
    p = e.cov(gone)
    check(re.search(r"^ +\d+ +\(No such file or directory\) +/nonexistent/cov_prog$", p.stdout,
                    re.M), "missing module not in the summary:\n" + p.stdout)
    # Another file in its place (rebuilt since the run): its lines would lie.
    other = e.path("other.drcov")
    rewrite_module_path(good, other, os.path.realpath("/bin/true"))
    p = e.cov("--lcov", e.path("other.info"), other)
    check(p.returncode == 0 and "not the file that ran" in p.stderr, "replaced module: " + p.stderr)
    rewrite_module_path(good, other, e.source)
    p = e.cov("--lcov", e.path("other.info"), other)
    check(p.returncode == 0 and "not an ELF file (skipped)" in p.stderr, "not ELF: " + p.stderr)

    p = e.cov()
    check(p.returncode == 2 and p.stderr.startswith("qplug-cov: no drcov file given"), p.stderr)
    p = e.cov("--frobnicate", good)
    check(p.returncode == 2 and "unknown option --frobnicate" in p.stderr, p.stderr)
    p = e.cov(good, "--lcov")
    check(p.returncode == 2 and "needs an argument" in p.stderr, p.stderr)
    p = e.cov("-h")
    check(p.returncode == 0 and p.stdout.startswith("usage: qplug-cov"), "-h: " + p.stdout)
    bad_out = e.path("no-such-dir/out.info")
    one_line_error(e, e.cov("--lcov", bad_out, good), bad_out, "No such file or directory",
                   "unwritable tracefile")
    empty_path = e.path("empty-path")
    os.makedirs(empty_path)
    html = e.path("html")
    p = e.cov("--html", html, good, env=dict(os.environ, PATH=empty_path))
    one_line_error(e, p, html, r"genhtml not found in PATH \(install the lcov package\)",
                   "no genhtml")


def test_fuzz(e):
    """Cut and corrupted files: a clean error or a report, never a crash."""
    data = open(e.run(), "rb").read()
    rng = random.Random(1234)
    bad = e.path("bad.drcov")
    cases = [data[:n] for n in range(0, min(len(data), 400), 3)]
    cases += [data[:n] for n in range(400, len(data), max(1, len(data) // 50))]
    for _ in range(150):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        cases.append(bytes(b))
    errors = 0
    for case in cases:
        open(bad, "wb").write(case)
        p = e.cov("--module", "cov_prog", "--lcov", e.path("bad.info"), bad)
        check(p.returncode in (0, 1), "exit status %d on a corrupt file: %s" % (p.returncode,
                                                                               p.stderr))
        if p.returncode == 1:
            errors += 1
            check(re.fullmatch(r"qplug-cov: %s: [^\n]+\n" % re.escape(bad), p.stderr),
                  "error message %r" % p.stderr)
    print("%d corrupt files: %d rejected, %d accepted (damage after the header)" %
          (len(cases), errors, len(cases) - errors))


def find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_html(e):
    if not shutil.which("genhtml"):
        print("SKIP: genhtml not installed (Debian package lcov)")
        return SKIP
    browser = find_browser()
    if not browser:
        print("SKIP: chromium not installed (Debian package chromium)")
        return SKIP
    html = e.path("html")
    p = e.cov("--module", os.path.basename(e.a.prog), "--html", html, e.run())
    check(p.returncode == 0, "qplug-cov --html failed: " + p.stderr)
    check(os.path.exists(os.path.join(html, "index.html")), "no index.html")
    pages = glob.glob(os.path.join(html, "**", "cov_prog.c.gcov.html"), recursive=True)
    check(len(pages) == 1, "source page: %s" % pages)
    profile = e.path("chromium-profile")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--user-data-dir=" + profile, "--dump-dom", "file://" + os.path.abspath(pages[0])]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    check("</html>" in dom, "chromium dumped no page: %r" % dom[:300])
    # genhtml: <a name="N"><span class="lineNum">   N </span><span class="lineCov">...
    classes = {}
    for m in re.finditer(r'<a name="(\d+)"><span class="lineNum">\s*\d+\s*</span>'
                         r'<span class="(line\w+)">', dom):
        classes[int(m.group(1))] = m.group(2)
    check(classes, "no annotated source lines in the rendered page")
    for kind, expected in (("hit", "lineCov"), ("noarg", "lineCov"), ("miss", "lineNoCov"),
                           ("arg", "lineNoCov")):
        for n in e.marks[kind]:
            check(classes.get(n) == expected,
                  "line %d (/* %s */) shown as %s, expected %s" % (n, kind, classes.get(n), expected))
    index = os.path.join(os.path.dirname(os.path.abspath(pages[0])), "index.html")
    index = subprocess.run(cmd[:-1] + ["file://" + index], capture_output=True, text=True,
                           timeout=120).stdout
    check('href="cov_prog.c.gcov.html"' in index, "the directory page does not link the source")
    print("rendered %s: %d annotated lines, markers match" % (pages[0], len(classes)))


def test_defaults(e):
    """Without --module: the program's own modules, not the system's, and the
    summary says how many were left out and how to get them."""
    a = e.run()
    p = e.cov("--no-functions", a)
    check(p.returncode == 0 and p.stderr == "", p.stderr)
    head = p.stdout.splitlines()[0]
    m = re.fullmatch(r"1 drcov file, 1 module, \d+ distinct blocks; (\d+) system modules? left "
                     r"out \(--all-modules shows them\)", head)
    check(m and int(m.group(1)) >= 2, "summary header: %r" % head)  # libc and ld.so at least
    rows = re.findall(r"^ +\d+ +.*  (\S+)$", p.stdout, re.M)
    check(rows == [os.path.realpath(e.a.prog)], "default modules: %s" % rows)
    p = e.cov("--all-modules", "--no-functions", a)
    check(p.returncode == 0 and "libc.so" in p.stdout and "ld-linux" in p.stdout and
          "left out" not in p.stdout, "--all-modules:\n" + p.stdout)
    # An explicit --module selects among every module.
    p = e.cov("--module", "libc.so", "--no-functions", a)
    check(p.returncode == 0 and "libc.so" in p.stdout and "cov_prog" not in p.stdout, p.stdout)
    print("default: %s; --all-modules and --module libc.so list the system's" % head)


def fake_genhtml(e, seconds):
    """A PATH directory with a genhtml that takes `seconds` and writes an index.html."""
    bin_dir = e.path("fake-bin")
    os.makedirs(bin_dir, exist_ok=True)
    script = os.path.join(bin_dir, "genhtml")
    with open(script, "w") as f:
        f.write('#!/bin/sh\nsleep %s\nwhile [ "$1" != --output-directory ]; do shift; done\n'
                'mkdir -p "$2" && echo "<html></html>" > "$2/index.html"\n' % seconds)
    os.chmod(script, 0o755)
    return dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"])


def test_html_output(e):
    """--html says where the report is, and leaves out sources that are not on
    this machine with one line (not genhtml's warning per file)."""
    if not shutil.which("genhtml"):
        print("SKIP: genhtml not installed (Debian package lcov)")
        return SKIP
    a = e.run()
    html = e.path("html")
    p = e.cov("--html", html, a)
    check(p.returncode == 0 and p.stderr == "", "--html: %d %r" % (p.returncode, p.stderr))
    check(re.fullmatch(r"HTML report: %s \(1 source file, \d+ of \d+ lines hit\)\n" %
                       re.escape(os.path.join(html, "index.html")), p.stdout), repr(p.stdout))
    check(os.path.exists(os.path.join(html, "index.html")), "no index.html")
    # A program whose source is gone since it was built, merged with cov_prog.
    gone_src = e.path("gone.c")
    with open(gone_src, "w") as f:
        f.write("int main(void) { return 0; }\n")
    gone = e.path("gone")
    subprocess.run(["cc", "-g", "-O0", "-o", gone, gone_src], check=True)
    os.unlink(gone_src)
    b = e.path("gone.drcov")
    subprocess.run([e.a.qplug, "-plugin", "%s,filename=%s" % (e.a.drcov, b), gone], check=True)
    html2 = e.path("html2")
    p = e.cov("--html", html2, a, b)
    check(p.returncode == 0, p.stderr)
    check(re.fullmatch(r"qplug-cov: %s: 1 of 2 source files are not on this machine \(%s\); the "
                       r"HTML report leaves them out\n" % (re.escape(html2), re.escape(gone_src)),
                       p.stderr), "dropped sources: %r" % p.stderr)
    check(p.stdout.startswith("HTML report: %s (1 source file," % os.path.join(html2, "index.html")),
          p.stdout)
    print(p.stderr + p.stdout, end="")
    # With --all-modules and glibc's debug info (libc6-dbg), thousands of
    # relative paths: still one line, and no genhtml warning.
    p = e.cov("--all-modules", "--html", e.path("html3"), a)
    check(p.returncode == 0 and "WARNING" not in p.stderr and p.stderr.count("\n") <= 1,
          "--all-modules --html: %r" % p.stderr[:2000])
    print("--all-modules: %s" % (p.stderr.strip() or "no source left out"))
    # The tracefile on stdout: the report's path goes to stderr.
    p = e.cov("--lcov", "-", "--html", e.path("html4"), a)
    check(p.returncode == 0 and p.stdout.startswith("TN:") and "HTML report:" not in p.stdout and
          p.stderr.startswith("HTML report: "), "--lcov - --html: %r" % p.stderr)


def on_pty(e, args, env=None):
    """(stdout, what qplug-cov wrote to its stderr, a terminal)."""
    import pty
    master, slave = pty.openpty()
    proc = subprocess.Popen([e.a.cov] + args, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        err += chunk
    out = proc.stdout.read()
    proc.wait()
    os.close(master)
    check(proc.returncode == 0, "qplug-cov %s: status %d: %r" % (args, proc.returncode, err))
    return out.decode(), err.decode(errors="replace")


def test_progress(e):
    """Progress on stderr: --progress shows every step, a terminal shows a step
    that takes more than a second (and clears it), anything shorter nothing."""
    a, b = e.run(), e.run("x")
    p = e.cov("--progress", "--module", "cov_prog", a, b)
    check(p.returncode == 0, p.stderr)
    expected = ["qplug-cov: reading drcov files 1/2: " + a, "qplug-cov: reading drcov files 2/2: " + b,
                "qplug-cov: reading debug info 1/1: " + os.path.realpath(e.a.prog)]
    check(p.stderr.splitlines() == expected, "--progress: %r" % p.stderr)
    p = e.cov(a, b)
    check(p.returncode == 0 and p.stderr == "", "no terminal: %r" % p.stderr)
    out, err = on_pty(e, [a, b])
    check(err == "" and "cov_prog" in out, "a short run on a terminal: %r" % err)
    # A genhtml that takes 3 s: its step is drawn once a second has passed,
    # then cleared before the report's path is printed.
    out, err = on_pty(e, ["--html", e.path("slow-html"), a], env=fake_genhtml(e, 3))
    step = "\r\x1b[Kqplug-cov: writing the HTML report with genhtml: 1 source file"
    check(err.startswith(step) and err.endswith("\r\x1b[K") and err.count(step) == 1,
          "a long run on a terminal: %r" % err)
    check(out.startswith("HTML report: "), out)
    print("--progress: %d lines; terminal, 3 s genhtml: %r" % (len(expected), err))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("test")
    for opt in ("qplug", "drcov", "cov", "prog", "source", "workdir"):
        ap.add_argument("--" + opt, required=True)
    args = ap.parse_args()
    tests = {"lines": test_lines, "merge": test_merge, "pipeline": test_pipeline,
             "summary": test_summary, "formats": test_formats, "errors": test_errors, "fuzz": test_fuzz,
             "html": test_html, "defaults": test_defaults, "html_output": test_html_output,
             "progress": test_progress}
    try:
        return tests[args.test](Env(args)) or 0
    except (Failure, subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        print("FAIL: %s" % err, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
