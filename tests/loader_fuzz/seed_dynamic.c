// The fuzzer's dynamic seed (tests/loader_fuzz): a PIE run by ld.so with libc.
// Its exit status, 42, comes from its data, read-only data and bss.
static volatile const int konst = 2;
int value = 40;
int buf[2048];

int main(void) {
  buf[2000] = 7;  // bss is writable, also past the file's last page
  return value + konst + buf[0];
}
