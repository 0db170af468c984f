// A partner's receiver built on the official Standard Webhooks library (npm standardwebhooks,
// pinned in package.json beside this file). Verifies webhook-id, webhook-timestamp and
// webhook-signature with each secret of WEBHOOK_SECRETS (space-separated); answers 200 when one
// of them verifies, else 401.
// Test knobs: a request with x-test-clock-offset-seconds is verified as if that many seconds had
// passed (a captured delivery replayed later); a path starting /flaky answers 500 to the first
// request of each webhook-id (so the sender retries).
// Prints "listening PORT", then one JSON line per request:
// {path, id, timestamp, signature, delivery, event, verdicts: [null | error message per secret], status, body}.
const http = require('http');
const { Webhook } = require('standardwebhooks');

const hooks = process.env.WEBHOOK_SECRETS.split(' ').map((secret) => new Webhook(secret));
const failedOnce = new Set();

// The library reads the clock with Date.now(); shift it for this one call only.
function verify(hook, raw, headers, offsetSeconds) {
  const realNow = Date.now;
  Date.now = () => realNow() + offsetSeconds * 1000;
  try {
    hook.verify(raw, headers);
    return null;
  } catch (e) {
    return e.message;
  } finally {
    Date.now = realNow;
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const offset = Number(req.headers['x-test-clock-offset-seconds'] || 0);
    const verdicts = hooks.map((hook) => verify(hook, raw, req.headers, offset));
    const id = req.headers['webhook-id'];
    let status = verdicts.includes(null) ? 200 : 401;
    if (status === 200 && req.url.startsWith('/flaky') && !failedOnce.has(id)) {
      failedOnce.add(id);
      status = 500;
    }
    let body = null;
    try {
      body = JSON.parse(raw);
    } catch (e) {
      // not JSON: reported as null
    }
    process.stdout.write(JSON.stringify({
      path: req.url,
      id,
      timestamp: req.headers['webhook-timestamp'],
      signature: req.headers['webhook-signature'],
      delivery: req.headers['x-keypulse-delivery'],
      event: req.headers['x-keypulse-event'],
      verdicts,
      status,
      body,
    }) + '\n');
    res.writeHead(status, {'Content-Type': 'application/json'});
    res.end(status === 200 ? '{"received":true}' : '{"received":false}');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\n'));
