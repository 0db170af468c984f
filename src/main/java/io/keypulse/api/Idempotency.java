package io.keypulse.api;

import io.keypulse.bus.IdempotencyClaim;
import io.keypulse.idempotency.IdempotencyKeys;
import io.keypulse.idempotency.IdempotencyKeys.Recorded;
import io.keypulse.partner.SecretBox;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotency-Key on the POSTs that create something. It runs once the caller is authenticated,
 * within its rate limit and its body read (the admission order), and only for requests that carry
 * the header: a retry of a committed request gets its first answer again with Idempotent-Replayed,
 * the same key on another request 422, and a key still in flight 409. A new key rides on with the
 * request ({@link #claim}) and commits in the transaction of what the request creates.
 *
 * <p>Keys in flight are tracked per node (every HTTP verticle of the node shares the set). Two
 * requests with one key on two nodes at once both pass here; the second to commit fails on the
 * table's primary key, stores nothing and answers 409 as well.
 */
final class Idempotency implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(Idempotency.class);
  static final String HEADER = "Idempotency-Key";
  static final String REPLAYED = "Idempotent-Replayed";
  static final int MAX_KEY = 255;
  private static final String CLAIM = "keypulse.idempotency.claim";

  /** Rebuilds an ingest's answer when its key committed but the answer was never recorded (a crash between). */
  interface Rebuild {
    Future<Answer> answer(RoutingContext ctx, Recorded recorded);
  }

  private final Pool pool;
  private final IdempotencyKeys keys;
  private final SecretBox box;
  private final Set<String> inFlight;
  private final Rebuild rebuild;

  Idempotency(Pool pool, SecretBox box, Set<String> inFlight) {
    this(pool, box, inFlight, null);
  }

  private Idempotency(Pool pool, SecretBox box, Set<String> inFlight, Rebuild rebuild) {
    this.pool = pool;
    this.keys = new IdempotencyKeys(pool);
    this.box = box;
    this.inFlight = inFlight;
    this.rebuild = rebuild;
  }

  /** The same handler for an ingest route, which can rebuild a lost answer from the stored events. */
  Idempotency rebuilding(Rebuild how) {
    return new Idempotency(pool, box, inFlight, how);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String key = ctx.request().getHeader(HEADER);
    if (key == null) {
      ctx.next();
      return;
    }
    if (!valid(key)) {
      ctx.fail(HttpProblem.badRequest(HEADER + " must be 1 to " + MAX_KEY + " printable ASCII characters"));
      return;
    }
    String scope = scope(ctx);
    String slot = scope + '\n' + key;
    if (!inFlight.add(slot)) {
      ctx.fail(new HttpProblem(409, "a request with this " + HEADER + " is in flight; retry once it is answered"));
      return;
    }
    // Freed as the answer's headers go out, not when the response ends: the end handler runs on a
    // later turn of the loop, by which time the caller may have its answer and its next request
    // with the key already on another connection. By the headers, the key has committed (or, when
    // the request failed, never will). The end handler still frees it for a connection that closed
    // with no answer; whichever comes first frees it, once, so it never frees a later request's slot.
    Runnable release = new Runnable() {
      private boolean done;

      @Override
      public void run() {
        if (!done) {
          done = true;
          inFlight.remove(slot);
        }
      }
    };
    ctx.addHeadersEndHandler(v -> release.run());
    ctx.addEndHandler(v -> release.run());
    String hash = hash(ctx);
    keys.find(scope, key).<Boolean>compose(found -> {
      if (found.isEmpty()) {
        return Future.succeededFuture(false);
      }
      if (found.get().expired()) {
        return keys.forgetExpired(scope, key).map(false);
      }
      if (!found.get().requestHash().equals(hash)) {
        return Future.failedFuture(new HttpProblem(422, "this " + HEADER
            + " was used for a different request (method, path or body) in the last 24 hours"));
      }
      return replay(ctx, found.get()).map(true);
    }).onSuccess(replayed -> {
      if (!replayed) {
        ctx.put(CLAIM, new IdempotencyClaim(scope, key, hash, 0));
        ctx.next();
      }
    }).onFailure(ctx::fail);
  }

  /** The request's unused key, when it carries one; null otherwise. */
  static IdempotencyClaim claim(RoutingContext ctx) {
    return ctx.get(CLAIM);
  }

  /**
   * Runs a creating request's SQL in one transaction and, when it carries a key, records the key
   * with the answer in that same transaction. A failed request records nothing: its retry runs anew.
   */
  Future<Answer> create(RoutingContext ctx, Function<SqlConnection, Future<Answer>> work) {
    IdempotencyClaim claim = claim(ctx);
    return pool.withTransaction(conn -> work.apply(conn).compose(answer -> claim == null
            ? Future.succeededFuture(answer)
            : IdempotencyKeys.record(conn, claim.answering(answer.status()), seal(answer)).map(answer)))
        .recover(Idempotency::conflict);
  }

  /**
   * Records an ingest's answer beside its key, which committed with the events. Should this fail,
   * the answer still goes out; a retry then gets it rebuilt from the events.
   */
  Future<Answer> remember(RoutingContext ctx, Answer answer) {
    IdempotencyClaim claim = claim(ctx);
    if (claim == null) {
      return Future.succeededFuture(answer);
    }
    return keys.answered(claim, seal(answer))
        .otherwise(e -> {
          log.warn("could not record the answer of an ingest with an {}: {}", HEADER, e.toString());
          return null;
        })
        .map(answer);
  }

  private Future<Void> replay(RoutingContext ctx, Recorded recorded) {
    Future<Answer> answer = recorded.response() != null
        ? Future.succeededFuture(new Answer(recorded.status(), Buffer.buffer(box.open(recorded.response()))))
        : rebuild != null ? rebuild.answer(ctx, recorded)
        : Future.failedFuture(new IllegalStateException("an idempotency key without its answer"));
    return answer.map(a -> {
      ctx.response().putHeader(REPLAYED, "true");
      a.send(ctx);
      return null;
    });
  }

  /** The same key committed meanwhile by a request on another node. */
  private static Future<Answer> conflict(Throwable failure) {
    return Future.failedFuture(IdempotencyKeys.taken(failure)
        ? new HttpProblem(409, "a request with this " + HEADER + " is in flight; retry once it is answered")
        : failure);
  }

  private byte[] seal(Answer answer) {
    // Sealed: a registration's or a new key's answer holds the API key itself.
    return box.seal(answer.body().toString(StandardCharsets.UTF_8));
  }

  /** A partner's keys are its own, whichever of its API keys sends them; a registration's are its address's. */
  private static String scope(RoutingContext ctx) {
    Caller caller = Caller.of(ctx);
    return caller != null ? "partner:" + caller.partnerId()
        : "address:" + ClientAddress.of(ctx.request().remoteAddress());
  }

  private static boolean valid(String key) {
    if (key.isEmpty() || key.length() > MAX_KEY) {
      return false;
    }
    return key.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
  }

  /** Method, path and body: "the same request" for a key. */
  private static String hash(RoutingContext ctx) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update((ctx.request().method().name() + ' ' + ctx.request().path() + '\n').getBytes(StandardCharsets.UTF_8));
      Buffer body = ctx.body().buffer();
      if (body != null) {
        sha.update(body.getBytes());
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }
}
