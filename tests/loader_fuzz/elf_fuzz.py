#!/usr/bin/env python3
"""Differential fuzz test of qplug's ELF loader against the kernel's binfmt_elf.

Mutates the ELF and program headers of small seed programs (and truncates them,
and points their PT_INTERP elsewhere), runs every mutant natively (execve) and
under qplug, and compares the verdicts:

  refused     native: execve failed (the errno is shown);
              qplug: exit status 1 and one line "qplug: <file>: ..."
  exit N      exited with status N
  signal S    died of signal S (a failed exec past the kernel's point of no
              return is a SIGSEGV; qplug must die of it too)
  timeout     still running after --timeout seconds

Every case is deterministic: case K of --rng-seed S always makes the same file.
The first cases apply one mutation each from a fixed list, so that every rule
is hit; the rest stack one to three random mutations.

  elf_fuzz.py --qplug build/src/qplug --seed static=PATH --seed static_pie=PATH \\
              --seed dynamic=PATH [--cases N] [--rng-seed S] [--case K] [--keep DIR]

--case K runs only case K (with --keep DIR it leaves the mutant in DIR).
Exit status: 0 if every verdict matches (or is a known difference, listed
below), 1 on a mismatch, 2 on a usage or set-up error.
"""

import argparse
import errno
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

PAGE = 0x1000
TASK_SIZE = 0x7FFFFFFFF000
PT_NULL, PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_PHDR, PT_TLS = 0, 1, 2, 3, 4, 6, 7
PT_GNU_STACK, PT_GNU_PROPERTY = 0x6474E551, 0x6474E553
PF_X, PF_W, PF_R = 1, 2, 4
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
EHDR_FIELDS = ("e_ident e_type e_machine e_version e_entry e_phoff e_shoff e_flags e_ehsize "
               "e_phentsize e_phnum e_shentsize e_shnum e_shstrndx").split()
EHDR_WIDTH = dict(zip(EHDR_FIELDS, (16, 2, 2, 4, 8, 8, 8, 4, 2, 2, 2, 2, 2, 2)))
PHDR_FIELDS = "p_type p_flags p_offset p_vaddr p_paddr p_filesz p_memsz p_align".split()

KERNEL = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])

# Known, deliberate differences: (name, reason, predicate on native verdict,
# qplug verdict and qplug's message). A case they match counts as expected and
# is listed in the summary; it is never skipped silently.
KNOWN_DIFFERENCES = [
    ("compat", "32-bit programs run natively through compat_binfmt_elf; qplug runs x86-64 "
     "programs only",
     lambda n, q, msg: n != "refused" and q == "refused" and "32-bit ELF" in msg),
    ("one-page-phdrs", "kernels before 6.x refuse program header tables larger than a page; "
     "qplug follows the newer limit of 64 KiB",
     lambda n, q, msg: n == "refused" and q != "refused" and KERNEL < (6, 0)),
    ("qplug-memory", "the kernel maps an ET_EXEC anywhere the new process has nothing; "
     "qplug cannot give the guest the addresses it occupies itself",
     lambda n, q, msg: n != "refused" and q == "refused" and "already in use" in msg),
]


class Elf:
    """A mutable ELF file: the bytes, with typed access to the headers."""

    def __init__(self, data):
        self.data = bytearray(data)

    def ehdr(self):
        if len(self.data) < EHDR.size:
            return None
        return dict(zip(EHDR_FIELDS, EHDR.unpack_from(self.data, 0)))

    def set_ehdr(self, field, value):
        h = self.ehdr()
        h[field] = value
        EHDR.pack_into(self.data, 0, *[h[f] for f in EHDR_FIELDS])

    def set_ident(self, index, value):
        self.data[index] = value

    def phdr_offsets(self):
        """File offsets of the program headers, if the table is in the file."""
        h = self.ehdr()
        if h is None or h["e_phentsize"] != PHDR.size:
            return []
        end = h["e_phoff"] + h["e_phnum"] * PHDR.size
        if end > len(self.data):
            return []
        return [h["e_phoff"] + i * PHDR.size for i in range(h["e_phnum"])]

    def phdrs(self):
        return [dict(zip(PHDR_FIELDS, PHDR.unpack_from(self.data, o))) for o in self.phdr_offsets()]

    def set_phdr(self, i, **fields):
        offsets = self.phdr_offsets()
        if i >= len(offsets):  # an earlier write moved or broke the table
            return
        off = offsets[i]
        p = dict(zip(PHDR_FIELDS, PHDR.unpack_from(self.data, off)))
        p.update(fields)
        PHDR.pack_into(self.data, off, *[p[f] for f in PHDR_FIELDS])

    def indices(self, p_type):
        return [i for i, p in enumerate(self.phdrs()) if p["p_type"] == p_type]

    def append(self, blob, align=8):
        while len(self.data) % align:
            self.data.append(0)
        off = len(self.data)
        self.data += blob
        return off


def u64(v):
    return v & 0xFFFFFFFFFFFFFFFF


def page_up(v):
    return u64((v + PAGE - 1) & ~(PAGE - 1))


# ---- mutations ----------------------------------------------------------
# Each operator lists the mutations it can make of the current file, as
# (description, function(elf, ctx)). A systematic case takes one of them from
# the seed; a random case picks among them.

def ehdr_mutations(elf, ctx):
    h = elf.ehdr()
    if h is None:
        return []
    n, size = h["e_phnum"], len(elf.data)
    values = {
        "e_type": [0, 1, 2, 3, 4, 0xFE00, 0xFFFF],
        "e_machine": [0, 3, 40, 183, 0x3E00, 0xFFFF],
        "e_version": [0, 2, 0xFFFFFFFF],
        "e_entry": [0, h["e_entry"] + 1, h["e_entry"] - PAGE,
                    h["e_entry"] + 0x10000, TASK_SIZE, 1 << 47, 1 << 63],
        "e_phoff": [0, 1, 8, 63, 65, size - n * PHDR.size, size - n * PHDR.size + 1, size,
                    1 << 63, u64(-PHDR.size)],
        "e_ehsize": [0, 0xFFFF],
        "e_flags": [0xFFFFFFFF],
        "e_phentsize": [0, 32, 55, 57, 64, 0xFFFF],
        "e_phnum": [0, 1, max(n - 1, 0), n + 1, 73, 74, 0xFFFF],
        "e_shoff": [u64(-1)],
        "e_shnum": [0xFFFF],
    }
    out = []
    for field, vals in values.items():
        for v in vals:
            v = u64(v) & ((1 << (8 * EHDR_WIDTH[field])) - 1)
            out.append(("%s=%#x" % (field, v), lambda e, c, f=field, v=v: e.set_ehdr(f, v)))
    for index, name, vals in ((4, "EI_CLASS", [0, 1, 3, 0xFF]), (5, "EI_DATA", [0, 2, 3]),
                              (6, "EI_VERSION", [0, 2]), (7, "EI_OSABI", [0xFF])):
        for v in vals:
            out.append(("%s=%d" % (name, v), lambda e, c, i=index, v=v: e.set_ident(i, v)))
    return out


def phdr_mutations(elf, ctx):
    out = []
    size = len(elf.data)
    for i, p in enumerate(elf.phdrs()):
        po = p["p_offset"] & (PAGE - 1)
        values = {
            "p_type": [PT_NULL, PT_LOAD, PT_NOTE, PT_INTERP, PT_PHDR, PT_TLS, PT_GNU_STACK,
                       PT_GNU_PROPERTY, 0x70000000, 0xFFFFFFFF],
            "p_flags": [0, PF_R, PF_W, PF_X, PF_R | PF_W, PF_R | PF_X, 7, 0xFFFFFFFF],
            "p_offset": [0, 1, p["p_offset"] + PAGE, p["p_offset"] - PAGE, size,
                         page_up(size) + po, page_up(size) + PAGE + po, (1 << 40) + po,
                         (1 << 63) + po, u64(-PAGE) + po],
            "p_vaddr": [0, 0x1000 + po, 0x10000 + po, p["p_vaddr"] + PAGE,
                        p["p_vaddr"] - PAGE, p["p_vaddr"] + 1, p["p_vaddr"] + 0x100000,
                        TASK_SIZE - 2 * PAGE + po, TASK_SIZE + po, (1 << 47) + po,
                        (1 << 63) + po, u64(-PAGE) + po],
            "p_paddr": [u64(-1)],
            "p_filesz": [0, 1, p["p_filesz"] - 1, p["p_filesz"] + 1, p["p_filesz"] + PAGE,
                         p["p_memsz"], p["p_memsz"] + 1, 1 << 32, 1 << 63],
            "p_memsz": [0, p["p_filesz"], p["p_filesz"] - 1, p["p_memsz"] + PAGE,
                        p["p_memsz"] + 0x100000, 1 << 32, 1 << 40, 1 << 47, u64(-1)],
            "p_align": [0, 1, 2, 0x1001, 0x200000, 1 << 30, 1 << 40, 1 << 47, 1 << 63],
        }
        for field, vals in values.items():
            for v in vals:
                v = u64(v) & (0xFFFFFFFF if field in ("p_type", "p_flags") else u64(-1))
                out.append(("phdr[%d].%s=%#x" % (i, field, v),
                            lambda e, c, i=i, f=field, v=v: e.set_phdr(i, **{f: v})))
    return out


def layout_mutations(elf, ctx):
    """Order and overlap of PT_LOADs, duplicates, the table's place."""
    out = []
    loads = elf.indices(PT_LOAD)
    ph = elf.phdrs()
    for a in loads:
        for b in loads:
            if a < b:
                out.append(("swap phdr[%d] phdr[%d]" % (a, b), lambda e, c, a=a, b=b: swap(e, a, b)))
            if a != b:
                # b's segment moved over a's (same page offset, so still mappable)
                pb = ph[b]
                v = (ph[a]["p_vaddr"] & ~(PAGE - 1)) | (pb["p_vaddr"] & (PAGE - 1))
                out.append(("phdr[%d] over phdr[%d]" % (b, a),
                            lambda e, c, b=b, v=v: e.set_phdr(b, p_vaddr=v)))
    if ph:
        out.append(("reverse the program headers", lambda e, c: reverse(e)))
        out.append(("program headers moved to the end", lambda e, c: move_table(e, 8)))
        out.append(("program headers moved to the end, unaligned", lambda e, c: move_table(e, 1)))
    others = [i for i, p in enumerate(ph) if p["p_type"] != PT_LOAD]
    for a in loads:
        for o in others[:2]:
            out.append(("phdr[%d] = copy of phdr[%d]" % (o, a),
                        lambda e, c, a=a, o=o: copy_phdr(e, a, o)))
    for o in others[:1]:
        out.append(("phdr[%d] = PT_GNU_STACK RWX" % o,
                    lambda e, c, o=o: e.set_phdr(o, p_type=PT_GNU_STACK, p_flags=7)))
    return out


def swap(e, a, b):
    pa, pb = e.phdrs()[a], e.phdrs()[b]
    e.set_phdr(a, **pb)
    e.set_phdr(b, **pa)


def reverse(e):
    ph = e.phdrs()
    for i, p in enumerate(reversed(ph)):
        e.set_phdr(i, **p)


def move_table(e, align):
    h = e.ehdr()
    table = bytes(e.data[h["e_phoff"]:h["e_phoff"] + h["e_phnum"] * PHDR.size])
    if align == 1:
        e.data.append(0)
        off = len(e.data)
        e.data += table
    else:
        off = e.append(table, align)
    e.set_ehdr("e_phoff", off)


def copy_phdr(e, a, o):
    e.set_phdr(o, **e.phdrs()[a])


def truncate_mutations(elf, ctx):
    h = elf.ehdr()
    sizes = {0, 3, 4, 16, 40, 52, 56, 63, 64, PAGE, PAGE + 1, len(elf.data) - 1}
    if h is not None:
        sizes.add(h["e_phoff"] + h["e_phnum"] * PHDR.size - 1)
    for p in elf.phdrs():
        if p["p_type"] in (PT_LOAD, PT_INTERP) and p["p_filesz"] < len(elf.data):
            sizes.update({p["p_offset"], p["p_offset"] + p["p_filesz"] - 1,
                          (p["p_offset"] + p["p_filesz"]) & ~(PAGE - 1)})
    return [("truncate to %#x" % s, lambda e, c, s=s: e.data.__delitem__(slice(s, None)))
            for s in sorted(sizes) if 0 <= s < len(elf.data)]


def interp_mutations(elf, ctx):
    """PT_INTERP naming other files, or broken; a static seed gets one added."""
    out = []
    if not elf.phdrs():
        return out
    for name in sorted(ctx["interps"]):
        out.append(("PT_INTERP -> %s" % name,
                    lambda e, c, n=name: set_interp(e, c["interps"][n].encode() + b"\0")))
    out.append(("PT_INTERP not NUL-terminated", lambda e, c: set_interp(e, b"/lib64/ld")))
    out.append(("PT_INTERP of 1 byte", lambda e, c: set_interp(e, b"\0")))
    out.append(("PT_INTERP of 4097 bytes", lambda e, c: set_interp(e, b"/" * 4096 + b"\0")))
    out.append(("PT_INTERP empty", lambda e, c: set_interp(e, b"\0\0")))
    out.append(("PT_INTERP past the end of the file",
                lambda e, c: set_interp(e, b"/x\0", offset=len(e.data) + 16)))
    return out


def set_interp(e, blob, offset=None):
    idx = e.indices(PT_INTERP)
    if idx:
        i = idx[0]
    else:
        # Use the PT_GNU_STACK slot, or the last header.
        stack = e.indices(PT_GNU_STACK)
        i = stack[0] if stack else len(e.phdrs()) - 1
    off = e.append(blob, 1) if offset is None else offset
    e.set_phdr(i, p_type=PT_INTERP, p_flags=PF_R, p_offset=off, p_vaddr=0, p_paddr=0,
               p_filesz=len(blob), p_memsz=len(blob), p_align=1)


OPERATORS = [ehdr_mutations, phdr_mutations, layout_mutations, truncate_mutations,
             interp_mutations]


# ---- running ------------------------------------------------------------

def no_core():
    # A core limit of 1 byte skips core files and core_pattern pipes alike.
    resource.setrlimit(resource.RLIMIT_CORE, (1, 1))


def run_native(path, timeout):
    try:
        r = subprocess.run([path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout, preexec_fn=no_core)
    except OSError as e:
        return "refused", "%s (%s)" % (errno_name(e.errno), e.strerror)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    return status(r.returncode), r.stderr.decode(errors="replace").strip()


def run_qplug(qplug, path, timeout):
    try:
        r = subprocess.run([qplug, path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout, preexec_fn=no_core)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    err = r.stderr.decode(errors="replace")
    lines = err.splitlines()
    if (r.returncode == 1 and len(lines) == 1 and err.endswith("\n")
            and lines[0].startswith("qplug: %s: " % path)):
        return "refused", lines[0]
    return status(r.returncode), err.strip()


def status(rc):
    if rc < 0:
        try:
            return "signal " + signal.Signals(-rc).name
        except ValueError:
            return "signal %d" % -rc
    return "exit %d" % rc


def errno_name(n):
    return errno.errorcode.get(n, str(n))


def build_case(seeds, ctx, case, rng_seed, systematic):
    """The mutant of case `case`: (seed name, Elf, [descriptions])."""
    if case < len(systematic):
        seed_name, desc = systematic[case]
        elf = Elf(seeds[seed_name])
        for d, fn in all_mutations(elf, ctx):
            if d == desc:
                fn(elf, ctx)
                return seed_name, elf, [desc]
        raise AssertionError("systematic mutation %r not found" % desc)
    rng = random.Random("%d:%d" % (rng_seed, case))
    seed_name = rng.choice(sorted(seeds))
    elf = Elf(seeds[seed_name])
    done = []
    for _ in range(rng.choice((1, 1, 2, 2, 3))):
        op = rng.choice(OPERATORS)
        choices = op(elf, ctx)
        if not choices:
            continue
        d, fn = rng.choice(choices)
        fn(elf, ctx)
        done.append(d)
    return seed_name, elf, done


def all_mutations(elf, ctx):
    out = []
    for op in OPERATORS:
        out += op(elf, ctx)
    return out


def systematic_cases(seeds, ctx, rng_seed, limit):
    """A fixed sample of single mutations covering every operator on every seed."""
    rng = random.Random("systematic:%d" % rng_seed)
    cases = []
    for seed_name in sorted(seeds):
        for op in OPERATORS:
            descs = [d for d, _ in op(Elf(seeds[seed_name]), ctx)]
            # Every header field and every interpreter at least once; then a sample.
            keep = descs if op in (ehdr_mutations, interp_mutations, truncate_mutations) else \
                rng.sample(descs, min(len(descs), limit))
            cases += [(seed_name, d) for d in keep]
    return cases


def make_interps(work, seeds, ld_so):
    """Files for PT_INTERP to name: real, missing, broken."""
    d = os.path.join(work, "interp")
    os.makedirs(d)
    ld = open(ld_so, "rb").read()

    def put(name, data, mode=0o755):
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)
        return p

    def patched(data, field, value):
        e = Elf(data)
        e.set_ehdr(field, value)
        return bytes(e.data)

    ld32 = bytearray(ld)
    ld32[4] = 1
    interps = {
        "ld.so": ld_so,
        "missing": os.path.join(d, "no-such-ld.so"),
        "directory": d,
        "dev-null": "/dev/null",
        "not-executable": put("noexec-ld.so", ld, 0o644),
        "short-text": put("short.txt", b"#!/bin/sh\n"),
        "text": put("text.txt", b"not an ELF file, just text " * 8),
        "short-elf": put("short-ld.so", ld[:40]),
        "aarch64": put("arm-ld.so", patched(ld, "e_machine", 183)),
        "et-rel": put("rel-ld.so", patched(ld, "e_type", 1)),
        "bad-phentsize": put("phent-ld.so", patched(ld, "e_phentsize", 32)),
        "elfclass32-ld.so": put("class32-ld.so", bytes(ld32)),
        "static": put("static", seeds["static"]),
        "static-pie": put("static-pie", seeds["static_pie"]),
        "dynamic": put("dynamic", seeds["dynamic"]),
    }
    return interps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qplug", required=True)
    ap.add_argument("--seed", action="append", required=True, metavar="NAME=PATH",
                    help="seed programs: static, static_pie and dynamic")
    ap.add_argument("--ld-so", default="/lib64/ld-linux-x86-64.so.2")
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--rng-seed", type=int, default=1)
    ap.add_argument("--systematic-per-operator", type=int, default=24,
                    help="single mutations sampled per seed for the bigger operators")
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--case", type=int)
    ap.add_argument("--keep", metavar="DIR")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    seeds = {}
    for s in args.seed:
        name, _, path = s.partition("=")
        seeds[name] = open(path, "rb").read()
    if set(seeds) != {"static", "static_pie", "dynamic"}:
        print("elf_fuzz.py: need --seed static=, static_pie= and dynamic=", file=sys.stderr)
        return 2
    work = args.keep or tempfile.mkdtemp(prefix="qplug-elf-fuzz.")
    os.makedirs(work, exist_ok=True)
    try:
        ctx = {"interps": make_interps(os.path.join(work, "files"), seeds, args.ld_so)}
        systematic = systematic_cases(seeds, ctx, args.rng_seed, args.systematic_per_operator)
        total = max(args.cases, len(systematic))
        cases = [args.case] if args.case is not None else range(total)
        repro = " ".join([sys.argv[0], "--qplug", args.qplug] +
                         ["--seed %s" % x for x in args.seed] +
                         ["--rng-seed %d" % args.rng_seed, "--cases %d" % args.cases])
        start = time.monotonic()
        tally, known, mismatches = {}, {}, []
        for case in cases:
            seed_name, elf, descs = build_case(seeds, ctx, case, args.rng_seed, systematic)
            path = os.path.join(work, "case%d" % case)
            with open(path, "wb") as f:
                f.write(elf.data)
            os.chmod(path, 0o755)
            nv, ndetail = run_native(path, args.timeout)
            qv, qdetail = run_qplug(args.qplug, path, args.timeout)
            what = "case %d: %s with %s" % (case, seed_name, "; ".join(descs) or "no mutation")
            ok = nv == qv and "internal error" not in qdetail
            if not ok:
                for name, reason, pred in KNOWN_DIFFERENCES:
                    if pred(nv, qv, qdetail):
                        known.setdefault(name, (reason, []))[1].append(case)
                        ok = True
                        break
                else:
                    mismatches.append(case)
                    print("MISMATCH %s\n  native: %s %s\n  qplug:  %s %s\n  reproduce: %s "
                          "--case %d --keep DIR" %
                          (what, nv, ndetail[:200], qv, qdetail[:300], repro, case))
            elif args.verbose:
                print("ok %s: %s" % (what, nv))
            tally[nv] = tally.get(nv, 0) + 1
            if args.case is None and args.keep is None:
                os.unlink(path)
        elapsed = time.monotonic() - start
        print("%d cases (%d systematic) in %.1f s, rng seed %d; native verdicts: %s" %
              (len(cases), min(len(systematic), len(cases)), elapsed, args.rng_seed,
               ", ".join("%s %d" % kv for kv in sorted(tally.items()))))
        for name, (reason, which) in sorted(known.items()):
            print("known difference %s (%s): cases %s" % (name, reason, which))
        if mismatches:
            print("%d mismatches: cases %s" % (len(mismatches), mismatches))
            return 1
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
