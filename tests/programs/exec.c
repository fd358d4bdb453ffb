// qtest_exec: execv of /bin/echo (output comes from the new program).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  printf("before exec (argc=%d)\n", argc);
  fflush(stdout);
  // A failing exec returns to us with errno set.
  char* bad[] = {"missing", NULL};
  if (execv("/nonexistent/qtest-missing", bad) == -1)
    printf("execv of missing file: %s\n", strerror(errno));
  fflush(stdout);
  char* args[] = {"echo", "exec", "works:", argc > 1 ? argv[1] : "no-arg", NULL};
  execv("/bin/echo", args);
  perror("execv /bin/echo");
  return 1;
}
