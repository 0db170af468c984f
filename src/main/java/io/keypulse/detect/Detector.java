package io.keypulse.detect;

import java.util.List;

/** One rule of SPEC §5: looks at an event in the light of its key's state and adds what it finds. */
interface Detector {
  void check(Observation o, List<Finding> found);

  /** "14×" above ten, "6.5×" below. */
  static String times(double ratio) {
    return ratio >= 10 ? Math.round(ratio) + "×" : Math.round(ratio * 10) / 10.0 + "×";
  }

  static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
