package io.keypulse.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import io.keypulse.config.Config;
import org.slf4j.LoggerFactory;

/**
 * Applies logging.format and logging.level once the configuration is read. logback.xml describes the
 * plain format; json swaps the console appender's encoder for Logback's own JsonEncoder (one object
 * per line, MDC included), so no JSON is written by hand and nothing changes on the plain path.
 */
public final class LogSetup {
  private static final String PLAIN_APPENDER = "STDOUT";

  private LogSetup() {}

  public static void apply(Config.Logging logging) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;  // another SLF4J backend: its own configuration rules
    }
    context.getLogger("io.keypulse").setLevel(Level.toLevel(logging.level()));
    if (!logging.json()) {
      return;
    }
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(jsonConsole(context));
    Appender<ILoggingEvent> plain = root.getAppender(PLAIN_APPENDER);
    if (plain != null) {
      root.detachAppender(plain);
      plain.stop();
    }
  }

  private static ConsoleAppender<ILoggingEvent> jsonConsole(LoggerContext context) {
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(context);
    // What an operator searches on: time, level, thread, logger, the message as read, MDC, the stack trace.
    encoder.setWithSequenceNumber(false);
    encoder.setWithNanoseconds(false);
    encoder.setWithContext(false);
    encoder.setWithMessage(false);
    encoder.setWithArguments(false);
    encoder.setWithFormattedMessage(true);
    encoder.start();
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName("JSON");
    appender.setEncoder(encoder);
    appender.start();
    return appender;
  }
}
