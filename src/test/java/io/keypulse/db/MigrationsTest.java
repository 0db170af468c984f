package io.keypulse.db;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keypulse.testing.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

@DisplayName("Migrations")
class MigrationsTest {
  private static final Pattern VERSIONED = Pattern.compile("V(\\d+)__.*\\.sql");

  @Test
  @DisplayName("log the schema's real version on the first start and on every start after it")
  void logsTheRealVersion() {
    List<Integer> versions = migrationVersions();
    String latest = Integer.toString(versions.stream().mapToInt(v -> v).max().orElseThrow());
    PgTarget pg = TestPostgres.freshDatabase();
    ListAppender<ILoggingEvent> logged = capture();

    Migrations.apply(pg);
    Migrations.apply(pg);

    List<String> lines = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(lines).containsExactly(
        "schema at version " + latest + " (" + versions.size() + " migrations applied now)",
        "schema at version " + latest + " (0 migrations applied now)");
  }

  private static ListAppender<ILoggingEvent> capture() {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    ((Logger) LoggerFactory.getLogger(Migrations.class)).addAppender(appender);
    return appender;
  }

  /** The V<n>__ files on the classpath, so a new migration does not need this test changed. */
  private static List<Integer> migrationVersions() {
    try (Stream<Path> files = Files.list(Path.of(Migrations.class.getResource("/db/migration").toURI()))) {
      return files.map(f -> VERSIONED.matcher(f.getFileName().toString()))
          .filter(Matcher::matches).map(m -> Integer.parseInt(m.group(1))).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
