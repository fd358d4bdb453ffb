// The two signals glibc keeps for itself: SIGCANCEL (32), with which
// pthread_cancel interrupts a thread blocked in a cancellation point, and
// SIGSETXID (33), with which setuid/setgid in a threaded program make every
// thread change its credentials. The guest's libc installs both handlers.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static int pipe_fds[2];
static volatile int cleanup_ran;

static void cleanup(void* arg) {
  (void)arg;
  cleanup_ran = 1;
}

static void* blocked_reader(void* arg) {
  (void)arg;
  char c;
  pthread_cleanup_push(cleanup, NULL);
  read(pipe_fds[0], &c, 1);  // a cancellation point that never returns on its own
  pthread_cleanup_pop(0);
  return NULL;
}

static pthread_barrier_t ready;
static volatile int stop;

static void* idle_thread(void* arg) {
  (void)arg;
  pthread_barrier_wait(&ready);
  while (!stop) usleep(1000);
  // Every thread has the credentials setuid gave the process.
  *(long*)arg = (long)syscall(SYS_getuid) + 1;
  return NULL;
}

int main(void) {
  pipe(pipe_fds);
  pthread_t t;
  pthread_create(&t, NULL, blocked_reader, NULL);
  usleep(50 * 1000);
  pthread_cancel(t);
  void* result;
  pthread_join(t, &result);
  printf("cancelled: %d, cleanup ran: %d\n", result == PTHREAD_CANCELED, cleanup_ran);

  pthread_barrier_init(&ready, NULL, 3);
  pthread_t idle[2];
  long uid_seen[2] = {0, 0};
  for (int i = 0; i < 2; i++) pthread_create(&idle[i], NULL, idle_thread, &uid_seen[i]);
  pthread_barrier_wait(&ready);
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  int rc_uid = setuid(uid), rc_gid = setgid(gid), rc_groups = setresuid(uid, uid, uid);
  stop = 1;
  for (int i = 0; i < 2; i++) pthread_join(idle[i], NULL);
  printf("setuid %d setgid %d setresuid %d, threads agree: %d\n", rc_uid, rc_gid, rc_groups,
         uid_seen[0] == (long)uid + 1 && uid_seen[1] == (long)uid + 1);
  return 0;
}
