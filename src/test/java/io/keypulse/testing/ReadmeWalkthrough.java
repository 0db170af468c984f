package io.keypulse.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The README's fenced examples that call the API, as a test runs them. The line before a fence
 * marks it: {@code <!-- walkthrough -->} runs it; {@code <!-- walkthrough: given what -->} runs it
 * once the test has set up what the README describes in words; {@code <!-- walkthrough: skip: why -->}
 * leaves it out. A fence with a curl command and no marker is unmarked (ReadmeWalkthroughTest then
 * fails, so a new example is run or left out on purpose). In a fence written as a session,
 * {@code $ } starts a command and the lines up to the next one are its answer; otherwise every line
 * is a command.
 */
public final class ReadmeWalkthrough {
  private static final Pattern MARKER = Pattern.compile("<!-- walkthrough(?:: skip: (.+?)|: given (.+?))? -->");
  private static final Pattern CURL = Pattern.compile("^(\\$ )?curl .*");

  /** A command with its answer as the README shows it (empty: none shown). */
  public record Step(int line, String command, List<String> answer) {}

  /** A fence: run (after what is given, if anything), skipped (with why) or unmarked (neither). */
  public record Block(int line, boolean run, String skipped, String given, List<Step> steps) {
    public boolean unmarked() {
      return !run && skipped == null;
    }
  }

  private ReadmeWalkthrough() {}

  /** Fences that hold a curl command or are marked, in README order. */
  public static List<Block> read(Path readme) {
    List<String> lines;
    try {
      lines = Files.readAllLines(readme);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).startsWith("```")) {
        continue;
      }
      int end = i + 1;
      while (end < lines.size() && !lines.get(end).startsWith("```")) {
        end++;
      }
      List<String> body = lines.subList(i + 1, end);
      Matcher marker = i > 0 ? MARKER.matcher(lines.get(i - 1).trim()) : null;
      boolean marked = marker != null && marker.matches();
      if (marked || body.stream().anyMatch(l -> CURL.matcher(l).matches())) {
        boolean run = marked && marker.group(1) == null;
        blocks.add(new Block(i + 1, run, marked ? marker.group(1) : null, marked ? marker.group(2) : null,
            steps(body, i + 2)));
      }
      i = end;
    }
    return blocks;
  }

  private static List<Step> steps(List<String> body, int firstLine) {
    boolean session = body.stream().anyMatch(l -> l.startsWith("$ "));
    List<Step> steps = new ArrayList<>();
    int i = 0;
    while (i < body.size()) {
      String line = body.get(i);
      boolean starts = session ? line.startsWith("$ ") : !line.isBlank() && !line.startsWith("#");
      if (!starts) {
        i++;
        continue;
      }
      int lineNo = firstLine + i;
      StringBuilder command = new StringBuilder(session ? line.substring(2) : line);
      while (command.toString().endsWith("\\") && i + 1 < body.size()) {
        command.setLength(command.length() - 1);
        command.append(' ').append(body.get(++i).trim());
      }
      i++;
      List<String> answer = new ArrayList<>();
      while (session && i < body.size() && !body.get(i).startsWith("$ ")) {
        answer.add(body.get(i++));
      }
      while (!answer.isEmpty() && answer.get(answer.size() - 1).isBlank()) {
        answer.remove(answer.size() - 1);
      }
      steps.add(new Step(lineNo, command.toString().trim(), answer));
    }
    return steps;
  }
}
