package io.keypulse.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Headless Chromium from the system packages (Debian's chromium and chromium-driver; .ci/run
 * installs them), driven by Selenium without any download.
 */
public final class Browser {
  private static final String CHROMIUM = System.getenv().getOrDefault("KEYPULSE_CHROMIUM", "/usr/bin/chromium");
  private static final String DRIVER = System.getenv().getOrDefault("KEYPULSE_CHROMEDRIVER", "/usr/bin/chromedriver");

  private Browser() {}

  public static ChromeDriver start(int width, int height) {
    if (!new File(CHROMIUM).canExecute() || !new File(DRIVER).canExecute()) {
      throw new IllegalStateException("the browser tests need " + CHROMIUM + " and " + DRIVER
          + ": apt-get install chromium chromium-driver (.ci/run does)");
    }
    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM).addArguments("--headless=new", "--no-sandbox",
        "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
        "--window-size=" + width + "," + height, "--hide-scrollbars");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(DRIVER))
        .usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  /** Saves what the browser shows; returns the file. */
  public static Path screenshot(ChromeDriver driver, Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
      return Files.copy(shot.toPath(), file, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
