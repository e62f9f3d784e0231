// The SDK against a real Plaza server (python -m server.cli serve on 127.0.0.1). The tests run
// in order and share one server and two clients; the server is killed at the end, always.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  PlazaClient, PlazaClosedError, Msg, ErrorCode, EntityKind, Presence, CloseCode, MAX_CHAT_CHARS,
} from '../src/index.js';
import { PlazaServer } from '../test-support/plaza-server.js';

/** @type {PlazaServer} */
let server;
/** @type {PlazaClient[]} */
const clients = [];
const ctx = {};

// Nothing here should take long: a stuck step fails its test instead of hanging the run.
const T = { timeout: 30_000 };

before(async () => { server = await PlazaServer.start(); }, { timeout: 60_000 });

after(async () => {
  for (const c of clients) c.leave();
  await server?.stop();
}, { timeout: 30_000 });

function client(opts = {}) {
  const c = new PlazaClient({ url: server.wsUrl, WebSocket, backoffMs: [100, 200, 400], ...opts });
  clients.push(c);
  return c;
}

const near = (a, b, tol) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= tol);

// A standing pose at the spawn: head 1.6 m up, facing +x (yaw 90°), hands in front.
function standAt(spawn, dx = 0) {
  const [x, y, z] = spawn;
  const q = [0, Math.SQRT1_2, 0, Math.SQRT1_2];
  return {
    head: [x + dx, y + 1.6, z, ...q],
    left: [x + dx + 0.3, y + 1.2, z - 0.25, ...q],
    right: [x + dx + 0.3, y + 1.2, z + 0.25, ...q],
  };
}

test('two clients join the lobby and see each other in STATE', T, async () => {
  const a = client(), b = client();
  const [wa, wb] = await Promise.all([
    a.join({ name: 'Ada', world: 'lobby', color: '#ff8800' }),
    b.join({ name: 'Bo', world: 'lobby' }),
  ]);
  Object.assign(ctx, { a, b, wa, wb });
  assert.equal(wa.world, 'lobby');
  assert.equal(wa.instance, wb.instance, 'same instance');
  assert.notEqual(wa.id, wb.id);
  assert.ok(a.connected && b.connected && a.statusState === 'connected');
  assert.ok(typeof wa.token === 'string' && wa.token, 'a new guest gets a token');
  assert.equal(a.tokens.get(), wa.token, 'kept for the next HELLO');

  const pa = standAt(wa.spawn, 0.5), pb = standAt(wb.spawn, -0.5);
  const seesA = b.waitFor('state', () => {
    const e = b.entities.get(wa.id);
    return !!e && near(e.position('head'), pa.head.slice(0, 3), 0.002) && e.ts === 1234;
  });
  const seesB = a.waitFor('state', () => {
    const e = a.entities.get(wb.id);
    return !!e && near(e.position('right'), pb.right.slice(0, 3), 0.002);
  });
  assert.ok(a.pose(pa.head, pa.left, pa.right, 1234));
  assert.ok(b.pose(pb.head, pb.left, pb.right));
  await Promise.all([seesA, seesB]);

  const ea = b.entities.get(wa.id);
  assert.equal(ea.kind, EntityKind.AVATAR);
  // A client that sends no avatar gets the default look, relayed like the colour.
  assert.deepEqual(ea.info, { name: 'Ada', color: '#ff8800', avatar: { look: 'classic', accessory: 'none' } });
  assert.ok(near(ea.rotation('head'), pa.head.slice(3), 0.001));
  assert.ok(near(ea.position('left'), pa.left.slice(0, 3), 0.002));
  assert.ok(!b.entities.has(wb.id), 'you never receive your own avatar');
  // Shared objects of the lobby are mirrored too, each with its world-file id.
  const objects = [...b.entities.values()].filter((e) => e.kind === EntityKind.OBJECT);
  assert.ok(objects.length > 0);
  for (const o of objects) assert.equal(wb.objects[o.info.oid], o.id);
});

test('chat reaches the other client', T, async () => {
  const { a, b, wa } = ctx;
  const got = b.waitFor('chat', (c) => c.text === 'hello from Ada');
  const echo = a.waitFor('chat', (c) => c.text === 'hello from Ada');
  assert.ok(a.chat('hello from Ada'));
  const c = await got;
  assert.equal(c.from, wa.id);
  assert.equal(c.name, 'Ada');
  assert.ok(c.serverTime > 0);
  await echo; // the sender gets it too
});

test('bad frames get an ERROR and the connection stays open', T, async () => {
  const { a } = ctx;
  let err = a.waitFor('error');
  assert.ok(a.sendFrame(Uint8Array.of(0xc1))); // 0xc1 is never valid msgpack
  let e = await err;
  assert.equal(e.code, ErrorCode.MALFORMED);
  assert.equal(e.name, 'MALFORMED');

  err = a.waitFor('error');
  a.sendRaw([Msg.CHAT, 42]);
  e = await err;
  assert.equal(e.code, ErrorCode.BAD_FIELD);
  assert.equal(e.ref, Msg.CHAT);

  err = a.waitFor('error');
  a.chat('x'.repeat(MAX_CHAT_CHARS + 1));
  e = await err;
  assert.equal(e.code, ErrorCode.TOO_LONG);

  const pong = a.waitFor('pong');
  a.ping();
  await pong;
  assert.ok(a.connected);
});

test('PING/PONG gives both clients the same server clock', T, async () => {
  const { a, b } = ctx;
  await Promise.all([a.waitFor('pong'), b.waitFor('pong'), a.ping(), b.ping()]);
  assert.ok(a.rttMs >= 0 && a.rttMs < 1000, `rtt ${a.rttMs}`);
  assert.ok(Math.abs(a.serverNow() - b.serverNow()) < 50, 'offsets agree');
});

test('a leaving client is a PRESENCE left and a STATE leave for the other', T, async () => {
  const { a, b, wb } = ctx;
  const presence = a.waitFor('presence', (p) => p.event === Presence.LEFT && p.entity === wb.id);
  const gone = a.waitFor('leave', (l) => l.id === wb.id);
  b.leave();
  assert.equal(b.statusState, 'offline');
  assert.equal((await presence).name, 'Bo');
  await gone;
  assert.ok(!a.entities.has(wb.id));
});

test('an unknown world is an ERROR and a close for good (no retry)', T, async () => {
  const c = client();
  const err = c.waitFor('error');
  await assert.rejects(
    c.join({ name: 'Cy', world: 'no-such-world' }),
    (e) => e instanceof PlazaClosedError && e.code === CloseCode.UNKNOWN_WORLD,
  );
  assert.equal((await err).code, ErrorCode.UNKNOWN_WORLD);
  assert.equal(c.statusState, 'failed');
  assert.equal(c.ws, null);
});

test('reconnects with backoff after a server restart, same guest, same world', T, async () => {
  const { a, wa } = ctx;
  const statuses = [];
  a.on('status', (s) => statuses.push(s.state));
  const lost = a.waitFor('close', (c) => c.willRetry, 15_000);
  const back = a.waitFor('welcome', undefined, 30_000);
  await server.restart();
  const closed = await lost;
  assert.ok([CloseCode.GOING_AWAY, 1006].includes(closed.code), `close ${closed.code}`);
  const w = await back;
  assert.ok(statuses.includes('reconnecting'));
  assert.equal(a.statusState, 'connected');
  assert.equal(w.world, 'lobby');
  assert.equal(w.user, wa.user, 'the guest token made us the same guest');
  assert.ok(a.pose(...Object.values(standAt(w.spawn))));
});
