// Implicit null checks: HotSpot compiles `o.field` to a plain load and turns
// the SIGSEGV of a null `o` into a NullPointerException, so a hot loop that
// keeps hitting nulls makes the JVM take guest faults in compiled code, in
// several threads at once.
public class NullChecks {
  static final class Box {
    int value;
    Box(int v) { value = v; }
  }

  static int read(Box b) {
    return b.value;
  }

  static long work(int seed) {
    Box[] boxes = new Box[64];
    for (int i = 0; i < boxes.length; i++) boxes[i] = (i % 3 == 0) ? null : new Box(i + seed);
    long sum = 0, npes = 0;
    for (int round = 0; round < 20000; round++) {
      for (Box b : boxes) {
        try {
          sum += read(b);
        } catch (NullPointerException e) {
          npes++;
        }
      }
    }
    return sum * 1000003 + npes;
  }

  public static void main(String[] args) throws Exception {
    final long[] results = new long[4];
    Thread[] threads = new Thread[results.length];
    for (int t = 0; t < threads.length; t++) {
      final int id = t;
      threads[t] = new Thread(() -> results[id] = work(id));
      threads[t].start();
    }
    for (Thread t : threads) t.join();
    for (int t = 0; t < results.length; t++) System.out.println("thread " + t + ": " + results[t]);
  }
}
