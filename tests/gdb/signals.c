// Guest for the gdb stub's signal test: a signal with a handler, then a
// fault with the default action.
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig) { got = sig; }

int main(void) {
  signal(SIGUSR1, on_usr1);
  raise(SIGUSR1);
  printf("handled %s\n", got == SIGUSR1 ? "SIGUSR1" : "nothing");
  fflush(stdout);
  *(volatile int*)0 = 1;
  return 0;
}
