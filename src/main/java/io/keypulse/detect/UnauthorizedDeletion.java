package io.keypulse.detect;

import java.time.Instant;
import java.util.List;

/**
 * unauthorized_deletion: a deletion by an actor never seen on the key (or by no actor at all) is
 * critical; a deletion of a key that signed in the last 24 hours is a warning.
 */
final class UnauthorizedDeletion implements Detector {

  @Override
  public void check(Observation o, List<Finding> found) {
    if (!o.is("delete")) {
      return;
    }
    String actor = o.event().actor();
    boolean unknownActor = actor == null || !o.actorKnown();
    long sinceSign = o.lastSignBefore() == KeyState.NEVER ? Long.MAX_VALUE : o.time() - o.lastSignBefore();
    boolean signedRecently = sinceSign >= 0 && sinceSign < KeyState.DAY;
    if (!unknownActor && !signedRecently) {
      return;
    }
    String description = unknownActor
        ? (actor == null ? "Key deleted without an actor" : "Key deleted by unknown actor '" + actor + "'")
        : "Key deleted " + Math.max(1, sinceSign / KeyState.MINUTE) + " min after it last signed";
    found.add(Finding.anomaly("unauthorized_deletion", unknownActor, description,
        Finding.evidence(o.state().actors.size(), actor, "an actor seen on this key, no signing in 24 h", "24h")
            .put("last_signed_at", o.lastSignBefore() == KeyState.NEVER ? null
                : Instant.ofEpochMilli(o.lastSignBefore()).toString())));
  }
}
