package io.keypulse.api;

import io.keypulse.detect.DetectorReport;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** GET /api/v1/detectors: what each detector watches for this partner, and how well it did. */
final class DetectorRoutes {
  private final DetectorReport report;

  DetectorRoutes(DetectorReport report) {
    this.report = report;
  }

  void list(RoutingContext ctx) {
    String partnerId = Caller.of(ctx).partnerId();
    report.detectors(partnerId).onSuccess(list -> ctx.json(new JsonObject().put("success", true)
        .put("partner_id", partnerId).put("detectors", list))).onFailure(ctx::fail);
  }
}
