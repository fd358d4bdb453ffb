// Guest for the gdb stub tests: a function to break on, a global to watch
// and to change from gdb, and an exit status that shows the change.
#include <stdio.h>

volatile int counter = 1;

__attribute__((noinline)) int add(int a, int b) { return a + b; }

int main(void) {
  int s = 0;
  for (int i = 0; i < 3; ++i) {
    s = add(s, i);
    counter += i;
  }
  printf("s=%d counter=%d\n", s, counter);
  return counter & 0xff;
}
