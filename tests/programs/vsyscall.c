// Calls into the legacy vsyscall page, which the kernel emulates (old static
// binaries and old glibc use it): gettimeofday, time and getcpu.
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

typedef int (*gettimeofday_t)(struct timeval*, void*);
typedef time_t (*time_t_fn)(time_t*);
typedef long (*getcpu_t)(unsigned*, unsigned*, void*);

int main(void) {
  struct timeval tv = {0, 0};
  int rc = ((gettimeofday_t)0xffffffffff600000ul)(&tv, NULL);
  time_t t = ((time_t_fn)0xffffffffff600400ul)(NULL);
  unsigned cpu = 1000, node = 1000;
  long rc_cpu = ((getcpu_t)0xffffffffff600800ul)(&cpu, &node, NULL);
  // time() reads the coarse clock, which may trail gettimeofday's by a tick:
  // a second boundary in between must not fail the check.
  time_t now = time(NULL) + 1;
  printf("gettimeofday %d, sane %d\n", rc, tv.tv_sec > 1600000000 && tv.tv_sec <= now);
  printf("time sane %d\n", t > 1600000000 && t <= now);
  printf("getcpu %ld, sane %d\n", rc_cpu, cpu < 1000 && node < 1000);
  return 0;
}
