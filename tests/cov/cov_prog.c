/*
 * Guest program of the qplug-cov tests (cov_test.py). Built with -g -O0, so
 * every marked statement keeps its own code. The markers give each line's
 * expected coverage, and the tests read them from this file:
 *   hit    runs in every run
 *   miss   never runs
 *   noarg  runs only when the program gets no argument
 *   arg    runs only when it gets one
 * Keep one marked statement per line, and never mark a line that shares its
 * code with a line of another kind (a brace, an "else").
 */
#include <stdio.h>
#include <string.h>

static int square(int x) {
  int y = x * x; /* hit */
  return y;      /* hit */
}

static int never_called(int x) {
  int y = x + 1; /* miss */
  return y * 3;  /* miss */
}

static int with_argument(const char *s) {
  int n = (int)strlen(s); /* arg */
  return n + 1;           /* arg */
}

static int without_argument(void) {
  int n = 100; /* noarg */
  return n;    /* noarg */
}

int main(int argc, char **argv) {
  int total = 0;                /* hit */
  for (int i = 0; i < 4; i++) { /* hit */
    total += square(i);         /* hit */
  }
  if (argc > 1) {                    /* hit */
    total += with_argument(argv[1]); /* arg */
  } else {
    total += without_argument(); /* noarg */
  }
  if (total < 0) {               /* hit */
    total = never_called(total); /* miss */
    puts("negative");            /* miss */
  }
  printf("total %d\n", total); /* hit */
  return 0;                    /* hit */
}
