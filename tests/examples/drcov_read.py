#!/usr/bin/env python3
"""Read and check a drcov coverage file (DynamoRIO drcovlib format).

    drcov_read.py FILE [--expect-module NAME] [--min-blocks N] [--quiet]
    drcov_read.py --selftest

Written from the format description (DynamoRIO's drcov documentation; docs/coverage.md):

  DRCOV VERSION: 2                       (2 or 3)
  DRCOV FLAVOR: drcov-64                 (optional, free text)
  Module Table: version V, count N       (V in 2..5; "Module Table: N" is table v1)
  Columns: id, base, end, entry, ...     (absent in table v1)
  N module lines, comma separated, the path last
  BB Table: M bbs
  M binary records {uint32 start; uint16 size; uint16 mod_id} (little-endian,
  packed), or a text table: "module id, start, size:" then
  "module[ id]: 0x<start>, <size>" per block.

Checks: every record's mod_id < N, and start + size <= end - base of its
module (v2: base column; v3+: start column). Prints one line per module with
its block count, then "blocks: M". With --expect-module NAME, a module whose
path has basename NAME must exist and hold at least --min-blocks blocks
(default 1). Exit status 0 when the file is valid and the expectations hold.
"""

import argparse
import os
import re
import struct
import sys


class DrcovError(Exception):
    pass


# Column layouts by module table version, for files without a Columns line
# and to check the Columns line against (Linux forms; Windows adds checksum
# and timestamp before path).
DEFAULT_COLUMNS = {
    1: ["id", "size", "path"],  # DynamoRIO 6.1-6.2: no Columns line
    2: ["id", "base", "end", "entry", "path"],
    3: ["id", "containing_id", "start", "end", "entry", "path"],
    4: ["id", "containing_id", "start", "end", "entry", "offset", "path"],
    5: ["id", "containing_id", "start", "end", "entry", "offset", "preferred_base", "path"],
}


def read_line(data, pos):
    end = data.find(b"\n", pos)
    if end < 0:
        raise DrcovError("unexpected end of file at offset %d" % pos)
    return data[pos:end].decode("utf-8", "replace").rstrip("\r"), end + 1


def parse_number(text, key):
    """Module table numbers: 0x-prefixed hex, bare hex for offset and
    preferred_base (drcovlib prints "%016llx"), decimal otherwise."""
    text = text.strip()
    try:
        if text.lower().startswith("0x"):
            return int(text, 16)
        return int(text, 16 if key in ("offset", "preferred_base") else 10)
    except ValueError:
        raise DrcovError("bad %s value %r" % (key, text))


def parse(data):
    pos = 0
    line, pos = read_line(data, pos)
    m = re.fullmatch(r"DRCOV VERSION: (\d+)", line)
    if not m:
        raise DrcovError("bad header line: %r" % line)
    version = int(m.group(1))
    if version not in (2, 3):
        raise DrcovError("unsupported DRCOV VERSION %d" % version)

    line, pos = read_line(data, pos)
    flavor = None
    if line.startswith("DRCOV FLAVOR:"):
        flavor = line.split(":", 1)[1].strip()
        line, pos = read_line(data, pos)

    m = re.fullmatch(r"Module Table: version (\d+), count (\d+)", line)
    if m:
        table_version, count = int(m.group(1)), int(m.group(2))
    else:
        m = re.fullmatch(r"Module Table: (\d+)", line)
        if not m:
            raise DrcovError("bad module table header: %r" % line)
        table_version, count = 1, int(m.group(1))
    if table_version not in DEFAULT_COLUMNS:
        raise DrcovError("unsupported module table version %d" % table_version)

    columns = DEFAULT_COLUMNS[table_version]
    if table_version > 1:
        line, pos = read_line(data, pos)
        if not line.startswith("Columns:"):
            raise DrcovError("missing Columns line: %r" % line)
        columns = [c.strip() for c in line.split(":", 1)[1].split(",")]
        if columns[-1] != "path" or columns[0] != "id":
            raise DrcovError("unexpected columns: %r" % columns)

    modules = []
    for i in range(count):
        line, pos = read_line(data, pos)
        fields = line.split(",", len(columns) - 1)
        if len(fields) != len(columns):
            raise DrcovError("module line %d has %d fields, expected %d: %r" %
                             (i, len(fields), len(columns), line))
        row = dict(zip(columns, fields))
        mod = {"path": row["path"].strip()}
        for key, text in row.items():
            if key != "path":
                mod[key] = parse_number(text, key)
        if table_version == 1:
            mod["base"], mod["end"] = 0, mod["size"]
        mod["base"] = mod.get("base", mod.get("start"))
        if mod["id"] != i:
            raise DrcovError("module line %d has id %d" % (i, mod["id"]))
        if mod["end"] < mod["base"]:
            raise DrcovError("module %d ends before its base" % i)
        modules.append(mod)

    line, pos = read_line(data, pos)
    m = re.fullmatch(r"BB Table: (\d+) bbs", line)
    if not m:
        raise DrcovError("bad BB table header: %r" % line)
    n_bbs = int(m.group(1))

    bbs = []
    if data.startswith(b"module id", pos):
        _, pos = read_line(data, pos)
        for i in range(n_bbs):
            line, pos = read_line(data, pos)
            m = re.fullmatch(r"module\[\s*(\d+)\]: (0x[0-9a-fA-F]+),\s*(\d+)", line.strip())
            if not m:
                raise DrcovError("bad text BB line %d: %r" % (i, line))
            bbs.append((int(m.group(2), 16), int(m.group(3)), int(m.group(1))))
    else:
        need = 8 * n_bbs
        if len(data) - pos < need:
            raise DrcovError("BB table truncated: %d bytes for %d records" % (len(data) - pos, n_bbs))
        for start, size, mod_id in struct.iter_unpack("<IHH", data[pos:pos + need]):
            bbs.append((start, size, mod_id))
        pos += need
        if pos != len(data):
            raise DrcovError("%d trailing bytes after the BB table" % (len(data) - pos))
    return {"version": version, "flavor": flavor, "table_version": table_version,
            "modules": modules, "bbs": bbs}


def check(cov):
    modules = cov["modules"]
    for i, (start, size, mod_id) in enumerate(cov["bbs"]):
        if mod_id >= len(modules):
            raise DrcovError("record %d: mod_id %d >= module count %d" % (i, mod_id, len(modules)))
        mod = modules[mod_id]
        if start + size > mod["end"] - mod["base"]:
            raise DrcovError("record %d: start 0x%x + size %d beyond module %d (%s, size 0x%x)" %
                             (i, start, size, mod_id, mod["path"], mod["end"] - mod["base"]))


def selftest():
    """Parses hand-written files of each supported shape; returns 0 on success."""
    rec = struct.pack("<IHH", 0x10, 4, 0) + struct.pack("<IHH", 0x20, 8, 1)
    v2 = (b"DRCOV VERSION: 2\nDRCOV FLAVOR: drcov-64\n"
          b"Module Table: version 2, count 2\nColumns: id, base, end, entry, path\n"
          b"  0, 0x0000000000400000, 0x0000000000401000, 0x0000000000400010, /bin/a, b\n"
          b"  1, 0x00007f0000000000, 0x00007f0000002000, 0x0000000000000000, [vdso]\n"
          b"BB Table: 2 bbs\n" + rec)
    v5_text = (b"DRCOV VERSION: 3\nDRCOV FLAVOR: drcov-64\n"
               b"Module Table: version 5, count 1\n"
               b"Columns: id, containing_id, start, end, entry, offset, preferred_base, path\n"
               b"  0,   0, 0x0000000000400000, 0x0000000000402000, 0x0000000000400000, "
               b"0000000000001000, 0x0000000000000000,  /bin/b\n"
               b"BB Table: 2 bbs\nmodule id, start, size:\n"
               b"module[  0]: 0x0000000000000010,   4\nmodule[  0]: 0x0000000000001ff0,  16\n")
    v3_win = (b"DRCOV VERSION: 2\nDRCOV FLAVOR: drcov\n"
              b"Module Table: version 3, count 1\n"
              b"Columns: id, containing_id, start, end, entry, checksum, timestamp, path\n"
              b" 0, 0, 0x10000000, 0x10008000, 0x10001000, 0x0001abcd, 0x5e000000, C:\\a.exe\n"
              b"BB Table: 1 bbs\n" + struct.pack("<IHH", 0x100, 2, 0))
    v1 = (b"DRCOV VERSION: 2\nDRCOV FLAVOR: drcov\nModule Table: 1\n0, 4096, /bin/c\n"
          b"BB Table: 1 bbs\n" + struct.pack("<IHH", 0x10, 1, 0))
    for name, data, modules, bbs in (("v2", v2, 2, 2), ("v5 text", v5_text, 1, 2),
                                      ("v3 windows", v3_win, 1, 1), ("v1", v1, 1, 1)):
        cov = parse(data)
        check(cov)
        assert len(cov["modules"]) == modules and len(cov["bbs"]) == bbs, name
    assert parse(v2)["modules"][0]["path"] == "/bin/a, b"
    for bad in (v2.replace(b"count 2", b"count 1"),  # mod_id 1 out of range
                v2[:-1],  # truncated record
                v2.replace(struct.pack("<IHH", 0x20, 8, 1), struct.pack("<IHH", 0x1ffc, 8, 1)),
                v2.replace(b"VERSION: 2", b"VERSION: 7")):
        try:
            cov = parse(bad)
            check(cov)
        except DrcovError:
            continue
        print("drcov_read: selftest: a bad file was accepted", file=sys.stderr)
        return 1
    print("drcov_read: selftest passed")
    return 0


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--expect-module", help="basename of a module that must have blocks")
    ap.add_argument("--min-blocks", type=int, default=1)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    with open(args.file, "rb") as f:
        data = f.read()
    try:
        cov = parse(data)
        check(cov)
    except DrcovError as e:
        print("drcov_read: %s: %s" % (args.file, e), file=sys.stderr)
        return 1

    counts = [0] * len(cov["modules"])
    for _, _, mod_id in cov["bbs"]:
        counts[mod_id] += 1
    if not args.quiet:
        print("DRCOV VERSION %d, flavor %s, module table v%d, %d modules" %
              (cov["version"], cov["flavor"], cov["table_version"], len(cov["modules"])))
        for mod, n in zip(cov["modules"], counts):
            print("module %3d: base 0x%016x end 0x%016x blocks %6d %s" %
                  (mod["id"], mod["base"], mod["end"], n, mod["path"]))
        print("blocks: %d" % len(cov["bbs"]))

    if args.expect_module:
        found = [n for mod, n in zip(cov["modules"], counts)
                 if os.path.basename(mod["path"]) == args.expect_module]
        if not found:
            print("drcov_read: no module named %s" % args.expect_module, file=sys.stderr)
            return 1
        if max(found) < args.min_blocks:
            print("drcov_read: module %s has %d blocks, expected at least %d" %
                  (args.expect_module, max(found), args.min_blocks), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
