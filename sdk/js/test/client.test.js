// The client without a server: quantization, the STATE mirror and reconnect policy, driven
// through a fake WebSocket. (test/server.test.js runs the same client against a real server.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, decode } from '@msgpack/msgpack';
import {
  PlazaClient, PlazaClosedError, Emitter, Entity, Msg, CloseCode, EntityKind, ABSOLUTE, AVATAR_ALL, OBJECT_ALL,
  N_VALUES, ROT_SCALE, quantizePosition, quantizeRotation, dequantizePosition, dequantizeRotation,
} from '../src/index.js';

/** A WebSocket stand-in: records what the client sends; the test plays the server. */
function fakeSockets() {
  const made = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.binaryType = 'blob';
      this.sent = [];
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      made.push(this);
    }
    send(bytes) { this.sent.push(decode(bytes)); }
    close(code = 1000) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      queueMicrotask(() => this.onclose?.({ code, reason: '' }));
    }
    // the server's side
    open() { this.readyState = 1; this.onopen?.({}); }
    receive(msg) { this.onmessage?.({ data: encode(msg) }); }
    drop(code, reason = '') { this.readyState = 3; this.onclose?.({ code, reason }); }
  }
  return { FakeSocket, made };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function welcome(extra = {}) {
  return [Msg.WELCOME, {
    v: 1, session: 's1', id: 7, world: 'lobby', instance: 'lobby#1', tick_rate: 20, input_rate: 20,
    server_time: 5000, spawn: [0, 0, 0, 0], bounds: [[-10, 0, -10], [10, 5, 10]], objects: {}, roster: [],
    world_info: {}, limits: {}, quant: { pos_unit_m: 0.001, rot_scale: 4095 }, user: 'g:1', role: 'guest',
    permissions: [], events: [], pinned: null, ...extra,
  }];
}

function joined(opts = {}) {
  const { FakeSocket, made } = fakeSockets();
  const c = new PlazaClient({ url: 'ws://x/ws', WebSocket: FakeSocket, pingMs: 0, backoffMs: [5, 10], ...opts });
  const p = c.join({ name: 'Ada', world: 'lobby', color: '#112233' });
  made[0].open();
  made[0].receive(welcome({ token: 'tok-1' }));
  return { c, made, p };
}

test('quantization matches the server (mm, rot * 4095 with w >= 0, half to even)', () => {
  assert.deepEqual(quantizePosition([1.2345, -0.0005, 0.0025]), [1234, 0, 2]);
  assert.deepEqual(dequantizePosition([1234, -5, 0]), [1.234, -0.005, 0]);
  const q = [0, -Math.SQRT1_2, 0, -Math.SQRT1_2]; // same rotation as (0, .707, 0, .707)
  assert.deepEqual(quantizeRotation(q), [0, 2896, 0, 2896]);
  const back = dequantizeRotation(quantizeRotation([0.1, 0.2, 0.3, 0.9]));
  const n = Math.hypot(0.1, 0.2, 0.3, 0.9);
  assert.ok(back.every((x, i) => Math.abs(x - [0.1, 0.2, 0.3, 0.9][i] / n) < 1 / ROT_SCALE));
  assert.deepEqual(dequantizeRotation([0, 0, 0, 0]), [0, 0, 0, 1]);
});

test('join sends HELLO, resolves at WELCOME and keeps the guest token', async () => {
  const { c, made, p } = joined();
  const w = await p;
  assert.equal(made[0].url, 'ws://x/ws');
  assert.equal(made[0].binaryType, 'arraybuffer');
  assert.deepEqual(made[0].sent[0], [Msg.HELLO, { v: 1, name: 'Ada', world: 'lobby', color: '#112233' }]);
  assert.equal(w.id, 7);
  assert.equal(c.selfId, 7);
  assert.ok(c.connected);
  assert.equal(c.tokens.get(), 'tok-1');
  // Two clock reads a moment apart: equal within a few ms (rounding each could differ by 1).
  assert.ok(Math.abs(c.serverNow() - performance.now() - c.serverOffsetMs) < 5);
  assert.deepEqual(made[0].sent[1].slice(0, 1), [Msg.PING], 'pings right after WELCOME');
  c.leave();
});

test('STATE: leaves, then enters (absolute), then updates (deltas)', () => {
  const { c, made } = joined();
  const s = made[0];
  const events = [];
  c.on('enter', ({ entity, t }) => events.push(['enter', entity.id, t]));
  c.on('leave', ({ id }) => events.push(['leave', id]));
  c.on('state', ({ tick }) => events.push(['state', tick]));
  const head = [1000, 1600, -2000, 0, 0, 0, 4095];
  const hand = [1000, 1200, -1700, 0, 0, 0, 4095];
  const avatar = [3, EntityKind.AVATAR, { name: 'Bo', color: '#fff' }, AVATAR_ALL | ABSOLUTE, ...head, ...hand, ...hand, 99];
  const ball = [9, EntityKind.OBJECT, { oid: 'ball' }, OBJECT_ALL | ABSOLUTE, 0, 500, 0, 0, 0, 0, 4095, 0];
  s.receive([Msg.STATE, 40, 6000, [avatar, ball], [], []]);
  assert.deepEqual(events, [['enter', 3, 2000], ['enter', 9, 2000], ['state', 40]]);
  const bo = c.entities.get(3);
  assert.ok(bo instanceof Entity && bo.isAvatar && bo.values.length === N_VALUES);
  assert.deepEqual(bo.position('head'), [1, 1.6, -2]);
  assert.equal(bo.ts, 99);
  // An update of head position (bit 1) and ts (bit 64) as deltas; the ball is now held by 3.
  s.receive([Msg.STATE, 41, 6050, [], [[3, 1 | 64, 50, 0, -10, 3], [9, 4 | ABSOLUTE, 3]], []]);
  assert.deepEqual(bo.position('head').map((x) => Math.round(x * 1000)), [1050, 1600, -2010]);
  assert.equal(bo.ts, 102);
  assert.equal(c.entities.get(9).holder, 3);
  // The ball leaves and re-enters in one message: leaves are applied first.
  events.length = 0;
  s.receive([Msg.STATE, 42, 6100, [ball], [], [9]]);
  assert.deepEqual(events, [['leave', 9], ['enter', 9, 2100], ['state', 42]]);
  assert.equal(c.entities.get(9).holder, 0);
  // A wrong value count is a warning, and the entity is not taken.
  const warnings = [];
  c.on('warning', (w) => warnings.push(w));
  s.receive([Msg.STATE, 43, 6150, [[11, EntityKind.OBJECT, { oid: 'x' }, OBJECT_ALL | ABSOLUTE, 1, 2]], [[99, 1, 1, 1, 1]], []]);
  assert.ok(!c.entities.has(11));
  assert.equal(warnings.length, 2);
  c.leave();
});

test('events carry named fields', () => {
  const { c, made } = joined();
  const got = {};
  for (const k of ['chat', 'presence', 'error', 'notice', 'grabResult', 'teleported', 'worldUpdate', 'suggestions']) {
    c.on(/** @type {any} */ (k), (ev) => { got[k] = ev; });
  }
  const s = made[0];
  s.receive([Msg.CHAT_MSG, 3, 'Bo', 'hi', 123]);
  s.receive([Msg.PRESENCE, 1, 3, 'Bo']);
  s.receive([Msg.ERROR, 3, 'bad', Msg.CHAT]);
  s.receive([Msg.NOTICE, 1, 'note']);
  s.receive([Msg.GRAB_RESULT, 9, false, 13]);
  s.receive([Msg.TELEPORTED, [1, 0, 2]]);
  s.receive([Msg.WORLD_UPDATE, { id: 'lobby' }, { ball: 10 }]);
  s.receive([Msg.SUGGESTIONS, [{ id: 'gallery' }]]);
  assert.deepEqual(got, {
    chat: { from: 3, name: 'Bo', text: 'hi', serverTime: 123 },
    presence: { event: 1, entity: 3, name: 'Bo' },
    error: { code: 3, name: 'BAD_FIELD', text: 'bad', ref: Msg.CHAT },
    notice: { kind: 1, text: 'note', data: {} },
    grabResult: { entity: 9, granted: false, code: 13 },
    teleported: [1, 0, 2],
    worldUpdate: { worldInfo: { id: 'lobby' }, objects: { ball: 10 } },
    suggestions: [{ id: 'gallery' }],
  });
  c.leave();
});

test('a lost connection reconnects with backoff and resumes world, instance and token', async () => {
  const { c, made } = joined({ random: () => 0.5 });
  const states = [];
  c.on('status', (s) => states.push(s.state));
  made[0].drop(1006);
  assert.equal(c.connected, false);
  assert.deepEqual(states, ['reconnecting']);
  await sleep(30);
  assert.equal(made.length, 2, 'a second socket after the backoff');
  made[1].open();
  assert.deepEqual(made[1].sent[0], [Msg.HELLO, {
    v: 1, name: 'Ada', world: 'lobby', color: '#112233', instance: 'lobby#1', token: 'tok-1',
  }]);
  // Still down: the next try waits longer (attempt 2 uses backoffMs[1]).
  made[1].drop(1006);
  assert.equal(c.attempt, 2);
  await sleep(30);
  made[2].open();
  made[2].receive(welcome());
  assert.equal(c.attempt, 0);
  assert.equal(c.statusState, 'connected');
  c.leave();
  await sleep(20);
  assert.equal(made.length, 3, 'no reconnect after leave()');
});

test('MOVED then close 4012: the client opens the owner at once, and later reconnects start over at url', async () => {
  const { FakeSocket, made } = fakeSockets();
  const c = new PlazaClient({ url: 'ws://x/ws', WebSocket: FakeSocket, pingMs: 0, backoffMs: [5, 10] });
  const p = c.join({ name: 'Ada', world: 'lobby' });
  made[0].open();
  made[0].receive([Msg.MOVED, { url: 'ws://x:9002/ws?moved=1', world: 'gallery', instance: 'gallery#1001', spawn: 'door' }]);
  made[0].drop(CloseCode.MOVED, 'gallery is on another worker');
  assert.equal(made.length, 2, 'no backoff: a move is not a failure');
  assert.equal(made[1].url, 'ws://x:9002/ws?moved=1');
  made[1].open();
  assert.deepEqual(made[1].sent[0], [Msg.HELLO, {
    v: 1, name: 'Ada', world: 'gallery', instance: 'gallery#1001', spawn: 'door',
  }]);
  made[1].receive(welcome({ world: 'gallery', instance: 'gallery#1001' }));
  assert.equal((await p).instance, 'gallery#1001');
  made[1].drop(1006); // that worker died: back to the public url, asking for the same instance
  await sleep(30);
  assert.equal(made[2].url, 'ws://x/ws');
  made[2].open();
  assert.deepEqual(made[2].sent[0], [Msg.HELLO, { v: 1, name: 'Ada', world: 'gallery', instance: 'gallery#1001' }]);
  // A 4012 with no MOVED before it is an ordinary lost connection (backoff).
  made[2].drop(CloseCode.MOVED);
  assert.equal(made.length, 3);
  c.leave();
});

test('a MOVED in the middle of a session (instances merged) reconnects there at once', async () => {
  const { FakeSocket, made } = fakeSockets();
  const c = new PlazaClient({ url: 'ws://x/ws', WebSocket: FakeSocket, pingMs: 0, backoffMs: [5, 10] });
  const welcomes = [];
  c.on('welcome', (w) => welcomes.push(w.instance));
  const p = c.join({ name: 'Ada', world: 'hall' });
  made[0].open();
  made[0].receive(welcome({ world: 'hall', instance: 'hall#1001' }));
  await p;
  made[0].receive([Msg.MOVED, { url: 'ws://x:9001/ws?moved=1', world: 'hall', instance: 'hall#1' }]);
  made[0].drop(CloseCode.MOVED, 'hall: joining hall#1');
  assert.equal(made.length, 2, 'no backoff');
  assert.equal(made[1].url, 'ws://x:9001/ws?moved=1');
  made[1].open();
  assert.equal(made[1].sent[0][1].instance, 'hall#1');
  made[1].receive(welcome({ world: 'hall', instance: 'hall#1' }));
  assert.deepEqual(welcomes, ['hall#1001', 'hall#1']);
  c.leave();
});

test('fatal closes stop for good and reject join()', async () => {
  const { FakeSocket, made } = fakeSockets();
  const c = new PlazaClient({ url: 'ws://x/ws', WebSocket: FakeSocket, pingMs: 0, backoffMs: [5] });
  let fatal = null;
  c.on('fatal', (f) => { fatal = f; });
  const p = c.join({ name: 'Ada', world: 'nowhere' });
  made[0].open();
  made[0].drop(CloseCode.UNKNOWN_WORLD, 'unknown world');
  await assert.rejects(p, (e) => e instanceof PlazaClosedError && e.code === CloseCode.UNKNOWN_WORLD);
  assert.deepEqual(fatal, { code: CloseCode.UNKNOWN_WORLD, reason: 'unknown world' });
  assert.equal(c.statusState, 'failed');
  await sleep(20);
  assert.equal(made.length, 1);
});

test('a rejected token is dropped and the client retries as a new guest', async () => {
  const { FakeSocket, made } = fakeSockets();
  let stored = 'old-token';
  const store = { get: () => stored, set: (t) => { stored = t; } };
  const c = new PlazaClient({ url: 'ws://x/ws', WebSocket: FakeSocket, pingMs: 0, backoffMs: [5], token: store });
  let rejected = 0;
  c.on('tokenRejected', () => rejected++);
  const p = c.join({ name: 'Ada', world: 'lobby' });
  made[0].open();
  assert.equal(made[0].sent[0][1].token, 'old-token');
  made[0].drop(CloseCode.UNAUTHORIZED);
  assert.equal(rejected, 1);
  assert.equal(stored, null);
  await sleep(20);
  made[1].open();
  assert.equal(made[1].sent[0][1].token, undefined);
  made[1].receive(welcome({ token: 'new-token' }));
  await p;
  assert.equal(stored, 'new-token');
  c.leave();
});

test('leave() rejects a pending join; sends are refused while not joined', async () => {
  const { FakeSocket, made } = fakeSockets();
  const c = new PlazaClient({ url: 'ws://x/ws', WebSocket: FakeSocket, pingMs: 0 });
  const p = c.join({ name: 'Ada', world: 'lobby' });
  made[0].open();
  assert.equal(c.chat('too early'), false, 'send() waits for WELCOME');
  c.leave();
  await assert.rejects(p, PlazaClosedError);
  assert.equal(c.statusState, 'offline');
});

test('Emitter: on/off/once/waitFor', async () => {
  /** @type {Emitter<{n: number}>} */
  const e = new Emitter();
  const seen = [];
  const off = e.on('n', (x) => seen.push(x));
  e.once('n', (x) => seen.push(-x));
  e.emit('n', 1);
  off();
  e.emit('n', 2);
  assert.deepEqual(seen, [1, -1]);
  const w = e.waitFor('n', (x) => x > 5);
  e.emit('n', 3);
  e.emit('n', 6);
  assert.equal(await w, 6);
  await assert.rejects(e.waitFor('n', undefined, 10), /timed out/);
  assert.equal(e.emit('n', 1), false);
});
