// qtest_procexe: /proc/self/exe must name this program, not the translator.
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  (void)argc;
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n < 0) {
    perror("readlink /proc/self/exe");
    return 1;
  }
  path[n] = '\0';
  printf("exe basename: %s\n", basename(path));
  char arg0[PATH_MAX];
  snprintf(arg0, sizeof arg0, "%s", argv[0]);
  printf("argv[0] basename: %s\n", basename(arg0));
  printf("absolute: %s\n", path[0] == '/' ? "yes" : "no");

  // The file behind /proc/self/exe is this ELF executable.
  int fd = open("/proc/self/exe", O_RDONLY);
  unsigned char hdr[20] = {0};
  if (fd < 0 || read(fd, hdr, sizeof hdr) != (ssize_t)sizeof hdr) {
    perror("read /proc/self/exe");
    return 1;
  }
  close(fd);
  printf("elf magic: %s, class %d, type %d, machine %d\n",
         memcmp(hdr, "\177ELF", 4) == 0 ? "yes" : "no", hdr[4], hdr[16], hdr[18]);
  return 0;
}
