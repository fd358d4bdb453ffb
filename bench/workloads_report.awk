# Report of bench/workloads.sh: reads its records and prints the tables.
#   T workload config runner median_us status   (status: ok differs fail timeout none)
#   S config runner median_us|fail               (/bin/true start-up)
#   N config runner note...                      (a configuration the runner cannot run)
# Variables: md (1: Markdown), runs, cpu, qplug, qemuver, configs, runners,
# workloads (space-separated lists), size, timeout, date.

$1 == "T" { us[$2, $3, $4] = $5; st[$2, $3, $4] = $6 }
$1 == "S" { su[$2, $3] = $4 }
$1 == "N" {
  note = $0
  sub(/^N [^ ]+ [^ ]+ /, "", note)
  notes[++nn] = sprintf("%s cannot run %s: %s", $3, $2, note)
}

# A ratio cell a/b from two (time, status) pairs: "1.23x", "1.23x!" (output
# differed), "FAIL", ">12x" / "<0.5x" (a run stopped by the timeout), "-".
# Sets cell_v (the numeric value, 0 when none) and cell_bound (">", "<" or "").
function ratio_cell(ua, sa, ub, sb,    v, s) {
  cell_v = 0
  cell_bound = ""
  if (sa == "none" || sb == "none") return "-"
  if (sa == "fail" || sb == "fail") return "FAIL"
  if (ua == "-" || ub == "-" || ub == 0) return "-"
  if (sa == "timeout" && sb == "timeout") return "?"
  v = ua / ub
  cell_v = v
  if (sa == "timeout") cell_bound = ">"
  if (sb == "timeout") cell_bound = "<"
  s = cell_bound fmt(v) "x"
  if (sa == "differs" || sb == "differs") s = s "!"
  return s
}
function fmt(v) { return v >= 100 ? sprintf("%.0f", v) : (v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v)) }

# Geometric mean of the values collected with gm_add; "-" when none.
function gm_reset() { gm_sum = 0; gm_n = 0; gm_lo = 0; gm_hi = 0 }
function gm_add(v, bound) {
  if (v <= 0) return
  gm_sum += log(v); gm_n++
  if (bound == ">") gm_lo = 1
  if (bound == "<") gm_hi = 1
}
function gm_cell() {
  if (!gm_n) return "-"
  return (gm_lo && !gm_hi ? ">" : (gm_hi && !gm_lo ? "<" : (gm_lo ? "~" : ""))) \
    fmt(exp(gm_sum / gm_n)) "x"
}

function row(n, cells,    i, s) {
  if (md) {
    s = "|"
    for (i = 1; i <= n; i++) s = s " " cells[i] " |"
  } else {
    s = sprintf("%-14s", cells[1])
    for (i = 2; i <= n; i++) s = s sprintf(" %11s", cells[i])
  }
  print s
}
function rule(n,    i, s) {
  if (!md) return
  s = "|---"
  for (i = 2; i <= n; i++) s = s "|---:"
  print s "|"
}

# One matrix: rows workloads, columns configurations, cells a/b where
# a = (config, ra) and b = (config or "none", rb).
function matrix(title, ra, rb, base_none, with_native,    c, w, n, cells, k, ub, sb) {
  print ""
  print (md ? "**" title "**" : "== " title)
  print ""
  n = 0
  cells[++n] = "workload"
  if (with_native) cells[++n] = "native (s)"
  for (c = 1; c <= nc; c++) cells[++n] = C[c]
  row(n, cells)
  rule(n)
  for (w = 1; w <= nw; w++) {
    n = 0
    cells[++n] = W[w]
    if (with_native) {
      k = W[w] SUBSEP "none" SUBSEP "native"
      cells[++n] = st[k] == "ok" ? sprintf("%.3f", us[k] / 1e6) : toupper(st[k])
    }
    for (c = 1; c <= nc; c++) {
      k = W[w] SUBSEP (base_none ? "none" : C[c]) SUBSEP rb
      cells[++n] = ratio_cell(us[W[w], C[c], ra], st[W[w], C[c], ra], us[k], st[k])
    }
    row(n, cells)
  }
  n = 0
  cells[++n] = md ? "**geomean**" : "geomean"
  if (with_native) cells[++n] = ""
  for (c = 1; c <= nc; c++) {
    gm_reset()
    for (w = 1; w <= nw; w++) {
      k = W[w] SUBSEP (base_none ? "none" : C[c]) SUBSEP rb
      ratio_cell(us[W[w], C[c], ra], st[W[w], C[c], ra], us[k], st[k])
      if (cell_v > 0 && st[W[w], C[c], ra] != "differs") gm_add(cell_v, cell_bound)
    }
    cells[++n] = md ? "**" gm_cell() "**" : gm_cell()
  }
  row(n, cells)
}

END {
  nw = split(workloads, W, " ")
  nc = split(configs, C, " ")
  nr = split(runners, R, " ")
  has_qemu = 0
  for (r = 1; r <= nr; r++) if (R[r] == "qemu") has_qemu = 1

  if (!md) {
    printf "# %s, %s, median of %d runs, %s inputs\n", date, cpu, runs, size
    printf "# qplug: %s\n# qemu:  %s\n", qplug, (has_qemu ? qemuver : "not run")
  }
  matrix("qplug / native (time ratio)", "qplug", "native", 1, 1)
  if (has_qemu) {
    matrix("qemu-x86_64 / native (time ratio)", "qemu", "native", 1, 1)
    matrix("qplug speedup over qemu-x86_64 (qemu time / qplug time)", "qemu", "qplug", 0, 0)
  }

  print ""
  print (md ? "**`/bin/true` start-up (ms, median)**" : "== /bin/true start-up (ms, median)")
  print ""
  n = 0
  cells[++n] = "runner"
  for (c = 1; c <= nc; c++) cells[++n] = C[c]
  row(n, cells)
  rule(n)
  split("native " runners, RR, " ")
  for (r = 1; r <= nr + 1; r++) {
    if (RR[r] == "native" && !index(" " configs " ", " none ")) continue
    n = 0
    cells[++n] = RR[r]
    for (c = 1; c <= nc; c++) {
      k = C[c] SUBSEP RR[r]
      cells[++n] = (k in su) ? (su[k] == "fail" ? "FAIL" : sprintf("%.2f", su[k] / 1000)) : "-"
    }
    row(n, cells)
  }

  # Without the configuration "none" the table has no column for native.
  if ((("none", "native") in su) && !index(" " configs " ", " none "))
    print (md ? "\n" : "") "native: " sprintf("%.2f", su["none", "native"] / 1000) " ms"
  print ""
  if (md) {
    printf "Median of %d runs, %s inputs, %s, %s. qplug: `%s`; qemu: %s.\n", runs, size, date, cpu,
      qplug, (has_qemu ? qemuver : "not run")
  }
  for (i = 1; i <= nn; i++) print (md ? "- " : "note: ") notes[i]
  print (md ? "\n" : "") "x = ratio; ! = output differed from native (left out of the geomean);" \
    " FAIL = non-zero exit; >R = stopped by the " timeout " s timeout (at least R);" \
    " - = not run."
}
