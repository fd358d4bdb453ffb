// Asynchronous signal delivery: handlers run while the program spins in a
// loop, interrupt blocking syscalls (EINTR vs SA_RESTART), run on an
// alternate stack, see their mask, and return with the interrupted state intact.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, usr1, on_altstack;
static char altstack[64 * 1024];

static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

static void on_usr1(int sig, siginfo_t* info, void* ucv) {
  (void)ucv;
  usr1 = sig + 100 * (info->si_pid == getpid());
  stack_t ss;
  sigaltstack(NULL, &ss);
  on_altstack = (ss.ss_flags & SS_ONSTACK) != 0;
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  if (!sigismember(&cur, SIGUSR1)) usr1 = -1;  // the signal itself is blocked in its handler
}

static int read_interrupted(int restart) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGALRM, &sa, NULL);
  int fds[2];
  if (pipe(fds)) return -2;
  pid_t child = fork();
  if (child == 0) {  // writes after the parent's read was interrupted
    usleep(300000);
    if (write(fds[1], "x", 1) != 1) _exit(1);
    _exit(0);
  }
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, NULL);
  char c;
  ssize_t n = read(fds[0], &c, 1);
  int err = errno;
  int status;
  waitpid(child, &status, 0);
  close(fds[0]);
  close(fds[1]);
  return n == 1 ? 1 : (err == EINTR ? 0 : -1);
}

int main(void) {
  // 1. Timer signals reach a thread spinning in translated code.
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &it, NULL);
  unsigned long spins = 0;
  while (alarms < 20) spins++;
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("spin loop saw %s alarms\n", alarms >= 20 ? "all" : "too few");

  // 2. SA_SIGINFO handler on an alternate stack, for a signal sent to ourselves.
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  kill(getpid(), SIGUSR1);
  printf("usr1 handler: %d, on alternate stack: %d\n", usr1, on_altstack);

  // 3. A blocked signal stays pending until unblocked, then runs.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, &old);
  usr1 = 0;
  raise(SIGUSR1);
  sigset_t pend;
  sigpending(&pend);
  printf("pending while blocked: %d, handled: %d\n", sigismember(&pend, SIGUSR1), usr1 != 0);
  sigprocmask(SIG_SETMASK, &old, NULL);
  printf("handled after unblock: %d\n", usr1 != 0);

  // 4. A blocking read: EINTR without SA_RESTART, restarted with it.
  printf("read without SA_RESTART: %s\n", read_interrupted(0) == 0 ? "EINTR" : "not interrupted");
  printf("read with SA_RESTART: %s\n", read_interrupted(1) == 1 ? "restarted" : "failed");

  // 5. Waiting for signals: sigtimedwait and signalfd on a blocked signal, and
  //    sigsuspend woken by a handler for a signal a child sends.
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &wait_set, NULL);
  raise(SIGUSR2);
  siginfo_t waited;
  struct timespec timeout = {1, 0};
  printf("sigtimedwait: %d\n", sigtimedwait(&wait_set, &waited, &timeout) == SIGUSR2);
  int sfd = signalfd(-1, &wait_set, 0);
  raise(SIGUSR2);
  struct signalfd_siginfo ssi;
  printf("signalfd: %d\n", read(sfd, &ssi, sizeof ssi) == sizeof ssi && ssi.ssi_signo == SIGUSR2);
  close(sfd);
  sigprocmask(SIG_UNBLOCK, &wait_set, NULL);
  sigset_t block_usr1, before;
  sigemptyset(&block_usr1);
  sigaddset(&block_usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block_usr1, &before);
  usr1 = 0;
  pid_t sender = fork();
  if (sender == 0) {
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  sigset_t during = before;
  sigdelset(&during, SIGUSR1);
  while (!usr1) sigsuspend(&during);
  waitpid(sender, NULL, 0);
  sigprocmask(SIG_SETMASK, &before, NULL);
  printf("sigsuspend woken by handler: %d\n", usr1 != 0);

  // 6. SIG_IGN and a default action that kills: the parent sees the signal.
  signal(SIGUSR2, SIG_IGN);
  raise(SIGUSR2);
  pid_t child = fork();
  if (child == 0) {
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  printf("child killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return spins > 0 ? 0 : 1;
}
