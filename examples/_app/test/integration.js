// Integration test run inside the compose stack: PostgreSQL and Redis must answer.
const net = require('net');
const url = new URL(process.env.DATABASE_URL || 'postgresql://test:test@db:5432/test');

function probe(host, port, payload, check) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host, () => { if (payload) s.write(payload); else { s.end(); resolve('connected'); } });
    let buf = '';
    s.on('data', (d) => { buf += d; if (check(buf)) { s.end(); resolve(buf.trim()); } });
    s.on('error', reject);
    s.setTimeout(5000, () => { s.destroy(); reject(new Error(`timeout talking to ${host}:${port}`)); });
  });
}

(async () => {
  let last;
  for (let i = 0; i < 60; i++) {
    try {
      await probe(url.hostname, Number(url.port || 5432), null, () => true);
      const pong = await probe('redis', 6379, 'PING\r\n', (b) => b.includes('\n'));
      if (pong !== '+PONG') throw new Error(`redis said ${pong}`);
      console.log(`integration tests passed: postgres at ${url.hostname} answered, redis said ${pong}`);
      return;
    } catch (e) { last = e; await new Promise((r) => setTimeout(r, 500)); }
  }
  console.error(`integration tests failed: ${last}`);
  process.exit(1);
})();
