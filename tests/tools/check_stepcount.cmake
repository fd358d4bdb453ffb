# Self-test of stepcount, run by ctest as
#   cmake -DSTEPCOUNT=... -DCASE=... -DPROG=... [-DPROG2=...] -DWORK=dir -P check_stepcount.cmake
# Each CASE checks stepcount's counts against numbers derived by hand from the
# test program's source (see the comments in known_count.S, signal_prog.S,
# exec_prog.S) or against bounds for the C programs.

cmake_minimum_required(VERSION 3.20)

foreach(var STEPCOUNT CASE PROG WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_stepcount.cmake: -D${var}=... missing")
  endif()
endforeach()
file(MAKE_DIRECTORY "${WORK}")

# run_stepcount(PREFIX [OPTIONS...] -- PROGRAM ARGS...): runs stepcount with
# --output, sets PREFIX_rc (exit status), PREFIX_stdout, and PREFIX_<key> for
# each "key: value" line of the output (spaces in keys become underscores).
function(run_stepcount prefix)
  set(out "${WORK}/${prefix}.counts")
  file(REMOVE "${out}")
  execute_process(
    COMMAND "${STEPCOUNT}" --output "${out}" ${ARGN}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE stdout
    ERROR_VARIABLE stderr
    TIMEOUT 600)
  message(STATUS "stepcount ${ARGN}: exit ${rc}")
  if(stderr)
    message(STATUS "stderr: ${stderr}")
  endif()
  set(${prefix}_rc "${rc}" PARENT_SCOPE)
  set(${prefix}_stdout "${stdout}" PARENT_SCOPE)
  if(NOT EXISTS "${out}")
    message(FATAL_ERROR "stepcount wrote no ${out}")
  endif()
  file(STRINGS "${out}" lines)
  foreach(line IN LISTS lines)
    message(STATUS "  ${line}")
    if(line MATCHES "^([^:]+): ([0-9.]+)$")
      set(value "${CMAKE_MATCH_2}")
      string(REGEX REPLACE "[^A-Za-z0-9_]" "_" key "${CMAKE_MATCH_1}")
      set(${prefix}_${key} "${value}" PARENT_SCOPE)
    endif()
  endforeach()
endfunction()

function(expect_eq what actual expected)
  if(NOT "${actual}" STREQUAL "${expected}")
    message(FATAL_ERROR "${what}: got '${actual}', expected '${expected}'")
  endif()
endfunction()

function(expect_between what actual lo hi)
  if(NOT actual MATCHES "^[0-9]+$" OR actual LESS lo OR actual GREATER hi)
    message(FATAL_ERROR "${what}: got '${actual}', expected ${lo}..${hi}")
  endif()
endfunction()

if(CASE STREQUAL "known_count")
  # PROG built with LOOPS=1000, PROG2 with LOOPS=10: 21 + 4 * LOOPS insns.
  run_stepcount(a --blocks --range exe --pcs "${WORK}/a.pcs" -- "${PROG}")
  expect_eq("exit status" "${a_rc}" 7)
  expect_eq("program stdout" "${a_stdout}" "ok\n")
  expect_eq("insns" "${a_insns}" 4021)
  expect_eq("transfers" "${a_transfers}" 1005)
  expect_eq("range exe" "${a_range_exe}" 4021)
  # --pcs: the 4 loop-body addresses ran 1000 times, every other one once.
  file(STRINGS "${WORK}/a.pcs" pcs)
  set(total 0)
  set(loop_pcs 0)
  set(ones 0)
  foreach(line IN LISTS pcs)
    if(NOT line MATCHES "^0x[0-9a-f]+ ([0-9]+)$")
      message(FATAL_ERROR "bad --pcs line '${line}'")
    endif()
    math(EXPR total "${total} + ${CMAKE_MATCH_1}")
    if(CMAKE_MATCH_1 EQUAL 1000)
      math(EXPR loop_pcs "${loop_pcs} + 1")
    elseif(CMAKE_MATCH_1 EQUAL 1)
      math(EXPR ones "${ones} + 1")
    endif()
  endforeach()
  expect_eq("sum of --pcs counts" "${total}" 4021)
  expect_eq("addresses run 1000 times" "${loop_pcs}" 4)
  expect_eq("addresses run once" "${ones}" 21)
  # --range: the first 16 bytes hold mov, xor and the 4-instruction loop body
  # plus the start of the call: 2 + 4 * 1000 + 1 (non-PIE, text at 0x401000).
  run_stepcount(r --range 0x401000-0x401010 -- "${PROG}")
  expect_eq("range 0x401000-0x401010" "${r_range_0x401000_0x401010}" 4003)

  run_stepcount(b -- "${PROG2}")
  expect_eq("exit status (LOOPS=10)" "${b_rc}" 7)
  expect_eq("insns (LOOPS=10)" "${b_insns}" 61)

elseif(CASE STREQUAL "signals")
  run_stepcount(a --blocks -- "${PROG}")
  run_stepcount(b --blocks -- "${PROG}")
  expect_eq("exit status" "${a_rc}" 42)
  expect_eq("insns" "${a_insns}" 33)
  expect_eq("transfers" "${a_transfers}" 10)
  expect_eq("insns of a second run" "${b_insns}" "${a_insns}")
  expect_eq("exit status of a second run" "${b_rc}" 42)
  # With an argument the program kills itself with SIGTERM: 128 + 15.
  run_stepcount(k -- "${PROG}" die)
  expect_eq("exit status when killed by SIGTERM" "${k_rc}" 143)
  expect_eq("insns when killed by SIGTERM" "${k_insns}" 35)

elseif(CASE STREQUAL "exec")
  # exec_prog: 5 instructions including the execve, then known_count's 4021.
  run_stepcount(a --stats -- "${PROG}" "${PROG2}")
  expect_eq("exit status" "${a_rc}" 7)
  expect_eq("program stdout" "${a_stdout}" "ok\n")
  expect_eq("insns" "${a_insns}" 4026)
  expect_eq("execs" "${a_execs}" 1)

elseif(CASE STREQUAL "threads")
  # Two threads each run a 2-instruction loop 20000 times; plus the static
  # libc's start-up, pthread_create/join and exit (about 35000).
  run_stepcount(a --stats -- "${PROG}")
  expect_eq("exit status" "${a_rc}" 3)
  expect_eq("threads" "${a_threads}" 3)
  expect_between("insns" "${a_insns}" 80000 400000)

elseif(CASE STREQUAL "fork")
  # The forked child runs 200 million instructions, untraced: only the
  # parent's (static libc start-up, fork, waitpid, exit) are counted.
  run_stepcount(a --stats --max 5000000 -- "${PROG}")
  expect_eq("exit status" "${a_rc}" 6)
  expect_eq("threads" "${a_threads}" 1)
  expect_between("insns" "${a_insns}" 1000 1000000)

elseif(CASE STREQUAL "restart")
  # 17 instructions, plus the nanosleep syscall instruction again when the
  # kernel restarts it after the (ptrace-reported) SIGWINCH.
  run_stepcount(a --stats --pcs "${WORK}/a.pcs" -- "${PROG}")
  expect_eq("exit status" "${a_rc}" 0)
  expect_eq("syscall_restarts" "${a_syscall_restarts}" 1)
  expect_eq("insns" "${a_insns}" 18)
  file(STRINGS "${WORK}/a.pcs" pcs)
  list(FILTER pcs INCLUDE REGEX " 2$")
  list(LENGTH pcs twice)
  expect_eq("addresses executed twice (the restarted syscall)" "${twice}" 1)

elseif(CASE STREQUAL "max")
  run_stepcount(a --max 100 -- "${PROG}")
  expect_eq("exit status at --max" "${a_rc}" 125)
  expect_eq("insns at --max" "${a_insns}" 100)

else()
  message(FATAL_ERROR "unknown CASE '${CASE}'")
endif()
message(STATUS "ok: ${CASE}")
