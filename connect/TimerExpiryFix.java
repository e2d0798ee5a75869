// Makes Debezium's poll loop wait instead of spinning through the last millisecond of every
// poll interval; run with the JDK's source launcher: java TimerExpiryFix.java [--check] <plugin dir>
//
// Why: ChangeEventQueue.poll() waits for records in a loop that stops waiting once its timer's
// remaining() is 0 ms, but only leaves once the timer has expired(), which Threads.timer()
// answers with `elapsed > time` in whole milliseconds. So between the two, for up to a
// millisecond at the end of each interval, the loop neither waits nor leaves: it spins. At a
// 25 ms poll interval that is about 4% of a core per connector, a spinning thread even when
// nothing happens (tests/bench/README.md measures it).
// Debezium 3.7 has no setting that avoids it, and Maven Central serves no sources of it to
// rebuild from, so this changes that one comparison to `elapsed >= time` in the compiled
// class: the byte of its `ifle` becomes `iflt`. The jar is only rewritten when it needs the
// change, before Connect runs: a jar that already has it is left alone.
//
// Exit status: 0 fixed (now or before), 1 not fixed (--check), 2 the jar does not hold the
// code this expects (another Debezium version: look again at whether the spin is still there).

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public class TimerExpiryFix {
  private static final int IFLE = 0x9e;
  private static final int IFLT = 0x9b;
  private static final int ANY = -1;

  // The tail of Threads.timer()'s expired(): invokevirtual Duration.toMillis (any constant),
  // lcmp, if<cond> +7, iconst_1, goto +4, iconst_0, ireturn. The comparison is at offset 4.
  private static final int[] EXPIRED_TAIL = {0xb6, ANY, ANY, 0x94, ANY, 0x00, 0x07, 0x04, 0xa7, 0x00, 0x04, 0x03, 0xac};
  private static final int COMPARISON = 4;

  record Match(Path entry, byte[] code, int at) {}

  public static void main(String[] args) throws IOException {
    boolean checkOnly = args.length == 2 && args[0].equals("--check");
    if (args.length != (checkOnly ? 2 : 1)) {
      System.err.println("usage: java TimerExpiryFix.java [--check] <Debezium connector plugin directory>");
      System.exit(64);
    }
    Path jar = findUtilJar(Path.of(args[args.length - 1]));
    try (FileSystem zip = FileSystems.newFileSystem(jar)) {
      List<Match> matches = new ArrayList<>();
      try (DirectoryStream<Path> classes = Files.newDirectoryStream(zip.getPath("io/debezium/util"), "Threads$*.class")) {
        for (Path entry : classes) {
          byte[] code = Files.readAllBytes(entry);
          for (int at = indexOf(code, 0); at >= 0; at = indexOf(code, at + 1)) matches.add(new Match(entry, code, at));
        }
      }
      if (matches.size() != 1) {
        System.err.printf("%s: found %d places like Threads.timer()'s expired(), expected 1; left as it is%n", jar, matches.size());
        System.exit(2);
      }
      Match match = matches.get(0);
      int comparison = match.code()[match.at() + COMPARISON] & 0xff;
      if (comparison == IFLT) {
        System.out.printf("%s: Debezium's timer already expires at its time%n", jar.getFileName());
      } else if (comparison != IFLE) {
        System.err.printf("%s: unexpected comparison 0x%02x in %s; left as it is%n", jar, comparison, match.entry());
        System.exit(2);
      } else if (checkOnly) {
        System.out.printf("%s: Debezium's timer still expires a millisecond late%n", jar.getFileName());
        System.exit(1);
      } else {
        match.code()[match.at() + COMPARISON] = (byte) IFLT;
        Files.write(match.entry(), match.code());
        System.out.printf("%s: Debezium's timer now expires at its time (%s)%n", jar.getFileName(), match.entry());
      }
    }
  }

  private static Path findUtilJar(Path pluginDir) throws IOException {
    try (DirectoryStream<Path> jars = Files.newDirectoryStream(pluginDir, "debezium-util-*.jar")) {
      for (Path jar : jars) return jar;
    }
    throw new IOException("no debezium-util-*.jar in " + pluginDir);
  }

  private static int indexOf(byte[] code, int from) {
    for (int at = from; at + EXPIRED_TAIL.length <= code.length; at++) {
      if (matchesAt(code, at)) return at;
    }
    return -1;
  }

  private static boolean matchesAt(byte[] code, int at) {
    for (int i = 0; i < EXPIRED_TAIL.length; i++) {
      if (EXPIRED_TAIL[i] != ANY && (code[at + i] & 0xff) != EXPIRED_TAIL[i]) return false;
    }
    int comparison = code[at + COMPARISON] & 0xff;
    return comparison == IFLE || comparison == IFLT;
  }
}
