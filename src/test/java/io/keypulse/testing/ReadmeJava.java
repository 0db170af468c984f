package io.keypulse.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.ToolProvider;

/** A Java example of the README (a ```java fence declaring a public class), compiled as a reader would. */
public final class ReadmeJava {
  private static final Pattern FENCE = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL);

  private ReadmeJava() {}

  /** The README's class of that name, compiled and loaded. */
  public static Class<?> load(String className) {
    try {
      String readme = Files.readString(Path.of("README.md"));
      String source = null;
      for (Matcher fence = FENCE.matcher(readme); fence.find() && source == null; ) {
        source = fence.group(1).contains("public class " + className + " ") ? fence.group(1) : null;
      }
      if (source == null) {
        throw new AssertionError("README has no ```java fence with public class " + className);
      }
      Path dir = TestPostgres.tempDir("readme-java-");
      Path file = dir.resolve(className + ".java");
      Files.writeString(file, source);
      int status = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", dir.toString(), file.toString());
      if (status != 0) {
        throw new AssertionError("the README's " + className + " does not compile");
      }
      return new URLClassLoader(new URL[] {dir.toUri().toURL()}, ReadmeJava.class.getClassLoader()).loadClass(className);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (ClassNotFoundException e) {
      throw new AssertionError(e);
    }
  }
}
