// Self-modifying code on writable and executable (RWX) pages.
//
// Invariant: a page that holds translated code and that the guest may write
// while it stays executable is kept write-protected by qplug. The guest's
// first write faults; the fault handler drops the page's translations, gives
// the write permission back and lets the write run again, so the code is
// translated afresh before it runs again. Pages the guest flips between RW
// and RX (W^X JITs) need none of this: their mprotect drops the translations.
//
// qplug tracks the protection the guest asked for, per mapping, from the
// start-up maps and every mmap/mprotect/munmap/mremap, so that it knows which
// pages are RWX and what protection to restore.
#pragma once

#include <cstdint>

namespace qplug::os {

void code_pages_init();  // reads /proc/self/maps once, before the guest runs

// Called by the guest's memory syscalls after they succeed.
void note_mmap(uint64_t addr, uint64_t len, int prot, int flags = 0, int fd = -1,
               uint64_t offset = 0);
void note_mprotect(uint64_t addr, uint64_t len, int prot);
void note_munmap(uint64_t addr, uint64_t len);
// Before a guest mremap of [addr, addr + len): pages qplug write-protected
// there get the guest's protection back (the kernel carries a mapping's
// protection to where mremap moves it). After it succeeds, note_mremap moves
// what is known of the range to [new_addr, new_addr + new_len).
void release_protection(uint64_t addr, uint64_t len);
void note_mremap(uint64_t addr, uint64_t len, uint64_t new_addr, uint64_t new_len);

// Called after translating guest code in [begin, end): write-protects those of
// its pages that the guest has mapped writable and executable, and, for code in
// shared memory, every writable view of the same bytes (double-mapped JITs).
void protect_translated(uint64_t begin, uint64_t end);

// How many of the `len` bytes at `addr` the guest may execute: up to the first
// page that is mapped without PROT_EXEC (fetching from it faults natively).
// Pages qplug does not know are taken as executable.
uint64_t executable_bytes(uint64_t addr, uint64_t len);

// From the SIGSEGV handler: if `addr` is on a page qplug write-protected,
// drops that page's translations, restores the guest's protection and returns
// true (the faulting write can simply run again).
bool handle_code_write(uint64_t addr);

}  // namespace qplug::os
