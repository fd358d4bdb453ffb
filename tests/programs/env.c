// qtest_env: environment variable lookup, setenv/unsetenv.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char** environ;

int main(void) {
  const char* v = getenv("QTEST_VAR");
  printf("QTEST_VAR=%s\n", v ? v : "(unset)");
  printf("QTEST_MISSING is %s\n", getenv("QTEST_MISSING") ? "set" : "unset");
  int count = 0;
  for (char** e = environ; *e; e++)
    if (strncmp(*e, "QTEST_", 6) == 0) count++;
  printf("QTEST_* variables: %d\n", count);
  setenv("QTEST_NEW", "fresh value", 1);
  printf("after setenv: %s\n", getenv("QTEST_NEW"));
  setenv("QTEST_VAR", "overwritten", 0);
  printf("setenv without overwrite keeps: %s\n",
         getenv("QTEST_VAR") ? getenv("QTEST_VAR") : "(unset)");
  unsetenv("QTEST_NEW");
  printf("after unsetenv: %s\n", getenv("QTEST_NEW") ? "set" : "unset");
  printf("PATH is %s\n", getenv("PATH") ? "set" : "unset");
  return 0;
}
