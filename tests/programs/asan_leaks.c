// AddressSanitizer's leak checker at exit: it makes a clone(CLONE_VM)
// tracer child that ptrace-stops every thread of its parent and reads its
// memory. Without an argument nothing leaks (exit 0); with one, 100 bytes do
// and the checker reports them (exit 1).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  (void)argv;
  char* volatile keep = malloc(100);
  printf("allocated\n");
  if (argc > 1) keep = NULL;  // leaked
  free(keep);
  return 0;
}
