#!/usr/bin/env node
// The Node.js `redis` package (npm, pinned in package.json) against two tricache nodes.
//
// Usage: node redis_node_client.js PORT_A PORT_B
// Writes through one node and reads through the other: single commands, pipelines
// (commands issued in one tick go out in one write; explicit batches with
// execAsPipeline, never MULTI), MSET/MGET, counters, DEL, error replies. Every
// read is linearizable, so what one node acknowledged the other returns at once.
// Exit 0 and a last line "node redis client: all checks passed", or exit 1 at
// the first mismatch. A watchdog ends the run after 50 s whatever happens.
//
// Each section is one async function in SECTIONS. A section that needs a feature
// the node may not have yet (TTL) probes for it first and returns why it skipped.
'use strict';

const { createClient, commandOptions } = require('redis');
const assert = require('node:assert/strict');

const WATCHDOG_MS = 50000;

function check(what, got, want) {
  try {
    assert.deepStrictEqual(got, want);
  } catch {
    throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

// The error text a promise rejects with (the reply line without its '-'), or a failure if it resolves.
async function errorOf(what, promise) {
  let value;
  try {
    value = await promise;
  } catch (e) {
    return e.message;
  }
  throw new Error(`${what}: expected an error reply, got ${JSON.stringify(value)}`);
}

function startsWith(what, text, prefix) {
  if (!text.startsWith(prefix)) throw new Error(`${what}: ${JSON.stringify(text)} does not start with ${JSON.stringify(prefix)}`);
}

async function setAndGetAcrossNodes(a, b) {
  check('ping', await a.ping(), 'PONG');
  check('set', await a.set('js:k', 'hello'), 'OK');
  check('get through the other node', await b.get('js:k'), 'hello');
  const bytes = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x80]);
  check('set binary', await b.set('js:bin', bytes), 'OK');
  const back = await a.get(commandOptions({ returnBuffers: true }), 'js:bin');
  check('binary value round trip', Buffer.compare(back, bytes), 0);
  check('set nx on a taken key', await b.set('js:k', 'x', { NX: true }), null);
  check('set xx', await b.set('js:k', 'world', { XX: true }), 'OK');
  check('get after xx', await a.get('js:k'), 'world');
  check('get missing', await b.get('js:missing'), null);
  check('append', await a.append('js:k', '!'), 6);
  check('strlen', await b.strLen('js:k'), 6);
  check('exists', await a.exists(['js:k', 'js:bin', 'js:missing']), 2);
  check('getdel', await b.getDel('js:k'), 'world!');
  check('gone after getdel', await a.exists('js:k'), 0);
}

async function counters(a, b) {
  check('incr fresh', await a.incr('js:n'), 1);
  check('incrby', await b.incrBy('js:n', 41), 42);
  check('decr', await a.decr('js:n'), 41);
  check('decrby', await b.decrBy('js:n', 11), 30);
  check('read as a string', await a.get('js:n'), '30');
  // Many INCRs in flight on both nodes at once: each is applied exactly once.
  const incrs = [];
  for (let i = 0; i < 100; ++i) incrs.push((i % 2 ? a : b).incr('js:race'));
  const seen = (await Promise.all(incrs)).sort((x, y) => x - y);
  check('concurrent incrs each applied once', seen, Array.from({ length: 100 }, (_, i) => i + 1));
  check('final count', await b.get('js:race'), '100');
}

async function pipelines(a, b) {
  // Issued in one tick: the client writes them together and the node answers in order.
  const sent = [];
  for (let i = 0; i < 250; ++i) {
    sent.push(a.set(`js:p${i}`, String(i)));
    sent.push(a.incr('js:pcount'));
  }
  const replies = await Promise.all(sent);
  check('pipelined sets', replies.filter((_, i) => i % 2 === 0).every((r) => r === 'OK'), true);
  check('pipelined incrs in order', replies.filter((_, i) => i % 2 === 1), Array.from({ length: 250 }, (_, i) => i + 1));
  // An explicit batch on the other node, sent without MULTI.
  const batch = b.multi();
  for (let i = 0; i < 250; ++i) batch.get(`js:p${i}`);
  check('batch reads through the other node', await batch.execAsPipeline(), Array.from({ length: 250 }, (_, i) => String(i)));
  const mixed = await b.multi().set('js:m', 'v').incr('js:pcount').get('js:m').del('js:m').get('js:m').execAsPipeline();
  check('mixed batch', mixed, ['OK', 251, 'v', 1, null]);
  // An error in the middle of a pipeline answers only its own command.
  const settled = await Promise.allSettled([
    a.set('js:e', '1'), a.sendCommand(['NOSUCH', 'x']), a.incr('js:e'), a.get('js:e'),
  ]);
  check('statuses around an error', settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  startsWith('the error in the pipeline', settled[1].reason.message, 'ERR unknown command');
  check('replies around an error', [settled[0].value, settled[2].value, settled[3].value], ['OK', 2, '2']);
}

async function multiKey(a, b) {
  check('mset', await a.mSet({ 'js:a': '1', 'js:b': '2', 'js:c': '3' }), 'OK');
  check('mget through the other node', await b.mGet(['js:a', 'js:none', 'js:b', 'js:c']), ['1', null, '2', '3']);
  check('msetnx refused when one key exists', await b.mSetNX({ 'js:c': 'x', 'js:d': '4' }), false);
  check('msetnx left both alone', await a.mGet(['js:c', 'js:d']), ['3', null]);
  check('msetnx on fresh keys', await a.mSetNX({ 'js:d': '4', 'js:e2': '5' }), true);
  check('del counts what it removed', await b.del(['js:a', 'js:b', 'js:none']), 2);
  check('deleted through the other node', await a.mGet(['js:a', 'js:b', 'js:c']), [null, null, '3']);
  check('unlink', await a.unlink('js:c'), 1);
  check('type', await b.type('js:d'), 'string');
  check('type of a missing key', await b.type('js:none'), 'none');
}

async function errors(a, b) {
  startsWith('unknown command', await errorOf('unknown command', a.sendCommand(['NOSUCH', 'x'])), 'ERR unknown command');
  check('incr on text', await errorOf('incr on text', (async () => {
    await b.set('js:text', 'abc');
    return a.incr('js:text');
  })()), 'ERR value is not an integer or out of range');
  check('wrong arity', await errorOf('wrong arity', b.sendCommand(['GET'])), "ERR wrong number of arguments for 'get' command");
  check('select another db', await errorOf('select another db', a.sendCommand(['SELECT', '1'])), 'ERR DB index is out of range');
  // The connections still serve after error replies.
  check('still serving A', await a.get('js:text'), 'abc');
  check('still serving B', await b.ping(), 'PONG');
}

// Expiry is being added to tricache; until a node takes SET ... EX this section only says so.
async function ttl(a, b) {
  const probe = await a.set('js:ttl-probe', 'v', { EX: 100 }).then(() => null, (e) => e.message);
  if (probe !== null) return `skipped (the node refuses SET EX: ${probe})`;
  const left = await b.ttl('js:ttl-probe');
  check('ttl through the other node is within EX', left > 0 && left <= 100, true);
  check('ttl of a key without expiry', await b.ttl('js:d'), -1);
  check('ttl of a missing key', await b.ttl('js:none'), -2);
  check('set px', await a.set('js:short', 'v', { PX: 200 }), 'OK');
  const until = Date.now() + 10000;
  while ((await b.get('js:short')) !== null) {
    if (Date.now() > until) throw new Error('a key set with PX 200 is still there after 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function counts(a, b) {
  // js:bin js:n js:race js:p0..249 js:pcount js:e js:d js:e2 js:text (+ js:ttl-probe when TTL ran)
  const size = await b.dbSize();
  const probe = await a.exists('js:ttl-probe');
  check('dbsize', size, 250 + 8 + probe);
  check('flushall', await a.flushAll(), 'OK');
  check('empty through the other node', await b.dbSize(), 0);
}

const SECTIONS = [setAndGetAcrossNodes, counters, pipelines, multiKey, errors, ttl, counts];

async function connect(port) {
  const c = createClient({ socket: { host: '127.0.0.1', port, connectTimeout: 5000, reconnectStrategy: false } });
  c.on('error', (e) => console.log(`client on port ${port}: ${e.message}`));
  await c.connect();
  return c;
}

async function main() {
  const [portA, portB] = process.argv.slice(2).map(Number);
  if (!portA || !portB) {
    console.log('usage: node redis_node_client.js PORT_A PORT_B');
    process.exit(2);
  }
  const a = await connect(portA);
  const b = await connect(portB);
  for (const section of SECTIONS) {
    const note = await section(a, b);  // a section that could not run says why
    console.log(`${section.name}: ${note ?? 'ok'}`);
  }
  await a.quit();
  await b.quit();
  console.log('node redis client: all checks passed');
}

setTimeout(() => {
  console.log(`FAIL: not finished within ${WATCHDOG_MS} ms`);
  process.exit(1);
}, WATCHDOG_MS).unref();

main().then(() => process.exit(0), (e) => {
  console.log(`FAIL ${e.message}`);
  process.exit(1);
});
