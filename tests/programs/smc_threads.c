// Self-modifying and freshly mapped code with several threads, as JITs do it:
//  1. a writer thread patches a function that a reader thread then calls after
//     an atomic handshake: the reader must run the new code every time;
//  2. four threads each rewrite their own function on one shared RWX page;
//  3. two threads map, fill, run and unmap fresh code in a loop while two
//     others run code of their own;
//  4. mremap (move, and grow) of an RWX page that has run code: the new range
//     is writable as the guest asked, and runs what is written there.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn_t)(void);

static void write_fn(uint8_t* code, int value) {
  uint8_t insn[6] = {0xB8, 0, 0, 0, 0, 0xC3};  // mov eax, imm32 ; ret
  memcpy(insn + 1, &value, 4);
  memcpy(code, insn, sizeof insn);
}

static uint8_t* rwx_page(void) {
  void* p =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

// 1. Writer and reader.
enum { kHandshakes = 3000 };
static uint8_t* shared_fn;
static atomic_int published, consumed;

static void* writer(void* arg) {
  (void)arg;
  for (int i = 1; i <= kHandshakes; i++) {
    while (atomic_load(&consumed) != i - 1) {
    }
    write_fn(shared_fn, i);
    atomic_store(&published, i);
  }
  return NULL;
}

static void* reader(void* arg) {
  int stale = 0;
  for (int i = 1; i <= kHandshakes; i++) {
    while (atomic_load(&published) != i) ((fn_t)shared_fn)();  // keeps it translated
    if (((fn_t)shared_fn)() != i) stale++;
    atomic_store(&consumed, i);
  }
  *(int*)arg = stale;
  return NULL;
}

// 2. Four functions on one page, each rewritten by its own thread.
enum { kRewriters = 4, kRewrites = 3000 };
static uint8_t* common_page;

static void* rewriter(void* arg) {
  const int id = (int)(intptr_t)arg;
  uint8_t* mine = common_page + 64 * id;
  int wrong = 0;
  for (int i = 0; i < kRewrites; i++) {
    write_fn(mine, id * 100000 + i);
    if (((fn_t)mine)() != id * 100000 + i) wrong++;
  }
  return (void*)(intptr_t)wrong;
}

// 3. Fresh code mapped and unmapped while other threads run.
enum { kChurns = 1500 };
static atomic_int churning;

static void* churner(void* arg) {
  const int id = (int)(intptr_t)arg;
  int wrong = 0;
  for (int i = 0; i < kChurns; i++) {
    uint8_t* p = rwx_page();
    if (!p) return (void*)(intptr_t)-1;
    write_fn(p + 16 * (i % 8), id * 1000000 + i);
    if (((fn_t)(p + 16 * (i % 8)))() != id * 1000000 + i) wrong++;
    munmap(p, 4096);
  }
  atomic_fetch_sub(&churning, 1);
  return (void*)(intptr_t)wrong;
}

static void* runner(void* arg) {
  uint8_t* own = arg;
  long sum = 0;
  do sum += ((fn_t)own)();
  while (atomic_load(&churning) > 0);
  return (void*)(intptr_t)(sum > 0);
}

int main(void) {
  pthread_t t[kRewriters];

  shared_fn = rwx_page();
  write_fn(shared_fn, 0);
  int stale = -1;
  pthread_create(&t[0], NULL, writer, NULL);
  pthread_create(&t[1], NULL, reader, &stale);
  pthread_join(t[0], NULL);
  pthread_join(t[1], NULL);
  printf("writer/reader: %d handshakes, %d stale calls\n", kHandshakes, stale);

  common_page = rwx_page();
  long wrong = 0;
  for (int i = 0; i < kRewriters; i++) pthread_create(&t[i], NULL, rewriter, (void*)(intptr_t)i);
  for (int i = 0; i < kRewriters; i++) {
    void* r;
    pthread_join(t[i], &r);
    wrong += (intptr_t)r;
  }
  printf("rewriters: %d threads x %d rewrites, %ld wrong results\n", kRewriters, kRewrites, wrong);

  uint8_t* own[2] = {rwx_page(), rwx_page()};
  write_fn(own[0], 1);
  write_fn(own[1], 2);
  atomic_store(&churning, 2);
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, churner, (void*)(intptr_t)i);
  for (int i = 0; i < 2; i++) pthread_create(&t[2 + i], NULL, runner, own[i]);
  wrong = 0;
  long ran = 0;
  for (int i = 0; i < 4; i++) {
    void* r;
    pthread_join(t[i], &r);
    if (i < 2)
      wrong += (intptr_t)r;
    else
      ran += (intptr_t)r;
  }
  printf("churn: 2 threads x %d fresh pages, %ld wrong results, %ld runners ran\n", kChurns, wrong,
         ran);

  // 4. mremap of code that ran: moved, then grown.
  uint8_t* old = rwx_page();
  write_fn(old, 11);
  int before = ((fn_t)old)();
  uint8_t* target = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint8_t* moved = mremap(old, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, target);
  write_fn(moved, 12);  // writable, as the guest mapped it
  int after_move = ((fn_t)moved)();
  uint8_t* grown = mremap(moved, 4096, 3 * 4096, MREMAP_MAYMOVE);
  write_fn(grown, 13);
  write_fn(grown + 2 * 4096, 14);
  int after_grow = ((fn_t)grown)() + ((fn_t)(grown + 2 * 4096))();
  printf("mremap: %d, moved %d, grown %d\n", before, after_move, after_grow);
  return 0;
}
