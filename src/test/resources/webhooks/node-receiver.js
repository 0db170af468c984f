// A partner's webhook receiver, verifying as the first product document's Node snippet does:
// HMAC-SHA256 over JSON.stringify(the parsed body), and over the raw bytes as well.
// Usage: WEBHOOK_SECRET=whsec_... node node-receiver.js
// Prints "listening PORT", then one JSON line per request: {path, delivery, event, raw_ok, node_ok, body}.
const crypto = require('crypto');
const http = require('http');

const secret = process.env.WEBHOOK_SECRET;
const hmac = (bytes) => crypto.createHmac('sha256', secret).update(bytes).digest('hex');

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const sig = req.headers['x-keypulse-signature'];
    let parsed = null;
    let reserialised = null;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
      reserialised = JSON.stringify(parsed);
    } catch (e) {
      // not JSON: node_ok stays false
    }
    const line = {
      path: req.url,
      delivery: req.headers['x-keypulse-delivery'],
      event: req.headers['x-keypulse-event'],
      raw_ok: sig === hmac(raw),
      node_ok: reserialised !== null && sig === hmac(reserialised),
      body: parsed,
    };
    process.stdout.write(JSON.stringify(line) + '\n');
    res.writeHead(200, {'Content-Type': 'application/json'});
    res.end('{"received":true}');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\n'));
