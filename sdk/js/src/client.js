// Plaza client: one WebSocket to a Plaza server speaking protocol version 1 (docs/protocol.md).
// msgpack framing, HELLO/WELCOME, the STATE mirror (integers, exactly as the protocol sends
// them), clock sync with PING/PONG, and reconnect with backoff that resumes in the same world
// and instance. Nothing here renders: the web client (web_client/js/net.js) and bots share it.
// Browsers use their WebSocket; in Node < 22 pass `WebSocket` from the `ws` package.
import { Encoder, Decoder } from '@msgpack/msgpack';
import {
  ABSOLUTE, AVATAR_GROUPS, OBJECT_GROUPS, N_VALUES, EntityKind, Msg, PROTOCOL_VERSION, CloseCode, ErrorName,
  POS_UNIT_M, ROT_SCALE,
} from './protocol.js';

/** Close codes after which reconnecting with the same HELLO cannot help. */
export const FATAL_CLOSES = /** @type {ReadonlySet<number>} */ (new Set([
  CloseCode.UNSUPPORTED_VERSION, CloseCode.BAD_HELLO, CloseCode.UNKNOWN_WORLD, CloseCode.KICKED,
  CloseCode.REFUSED,
]));

/** Reconnect delays (ms) for tries 1, 2, ...; the last one repeats; each gets ±20 % jitter. */
export const DEFAULT_BACKOFF_MS = Object.freeze([300, 700, 1500, 3000, 5000]);
export const DEFAULT_PING_MS = 2000;

const OPEN = 1; // WebSocket.OPEN, the same in browsers and `ws`

// ------------------------------------------------------------------ quantization

/**
 * Metres -> integer millimetres, as STATE carries positions (round half to even, like the server).
 * @param {ArrayLike<number>} p [x, y, z] in metres
 * @returns {number[]}
 */
export function quantizePosition(p) {
  return [roundEven(p[0] / POS_UNIT_M), roundEven(p[1] / POS_UNIT_M), roundEven(p[2] / POS_UNIT_M)];
}

/**
 * Unit quaternion [x, y, z, w] -> integers round(c * ROT_SCALE) after normalising, with w >= 0.
 * @param {ArrayLike<number>} q
 * @returns {number[]}
 */
export function quantizeRotation(q) {
  const n = Math.hypot(q[0], q[1], q[2], q[3]) || 1;
  const s = (q[3] < 0 ? -1 : 1) / n;
  return [0, 1, 2, 3].map((i) => roundEven(q[i] * s * ROT_SCALE));
}

/**
 * Integer millimetres at `values[offset..offset+2]` -> metres.
 * @param {ArrayLike<number>} values
 * @param {number} [offset]
 * @param {number[]} [out]
 * @returns {number[]} [x, y, z]
 */
export function dequantizePosition(values, offset = 0, out = [0, 0, 0]) {
  out[0] = values[offset] * POS_UNIT_M;
  out[1] = values[offset + 1] * POS_UNIT_M;
  out[2] = values[offset + 2] * POS_UNIT_M;
  return out;
}

/**
 * Quantized quaternion at `values[offset..offset+3]` -> a unit quaternion (identity for zeros).
 * @param {ArrayLike<number>} values
 * @param {number} [offset]
 * @param {number[]} [out]
 * @returns {number[]} [x, y, z, w]
 */
export function dequantizeRotation(values, offset = 0, out = [0, 0, 0, 1]) {
  const x = values[offset], y = values[offset + 1], z = values[offset + 2], w = values[offset + 3];
  const n = Math.hypot(x, y, z, w);
  if (n === 0) { out[0] = 0; out[1] = 0; out[2] = 0; out[3] = 1; return out; }
  out[0] = x / n; out[1] = y / n; out[2] = z / n; out[3] = w / n;
  return out;
}

/** numpy.rint: round half to even; never -0. @param {number} x */
function roundEven(x) {
  const r = Math.round(x);
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

// ------------------------------------------------------------------ entities

/** @typedef {'head' | 'left' | 'right'} AvatarPart */

// Offsets of the parts' position groups in an avatar's integer array (rotation follows).
const PART = { head: AVATAR_GROUPS[0][1], left: AVATAR_GROUPS[2][1], right: AVATAR_GROUPS[4][1] };
const AVATAR_TS = AVATAR_GROUPS[6][1];
const OBJECT_HOLDER = OBJECT_GROUPS[2][1];

/** An entity you know of, mirrored from STATE: integers exactly as sent (mm, rot*4095, ts). */
export class Entity {
  /**
   * @param {number} id
   * @param {number} kind EntityKind
   * @param {Record<string, any>} info avatars: {name, color, avatar: {look, accessory}}; objects: {oid, ...}
   */
  constructor(id, kind, info) {
    this.id = id;
    this.kind = kind;
    this.info = info;
    /** Integer values in the groups' layout; float64 holds uint32 timestamps exactly. */
    this.values = new Float64Array(N_VALUES);
  }

  get isAvatar() { return this.kind === EntityKind.AVATAR; }

  /**
   * Position in metres: an avatar's head/left/right, or an object's (part ignored).
   * @param {AvatarPart} [part]
   * @returns {number[]}
   */
  position(part = 'head') {
    return dequantizePosition(this.values, this.isAvatar ? PART[part] : 0);
  }

  /**
   * Unit quaternion [x, y, z, w] of a part (avatars) or of the object.
   * @param {AvatarPart} [part]
   * @returns {number[]}
   */
  rotation(part = 'head') {
    return dequantizeRotation(this.values, (this.isAvatar ? PART[part] : 0) + 3);
  }

  /** An avatar's last POSE timestamp (sender's clock, ms mod 2^32); 0 for objects. */
  get ts() { return this.isAvatar ? this.values[AVATAR_TS] : 0; }

  /** Entity id of the avatar holding this object, 0 when free (and for avatars). */
  get holder() { return this.isAvatar ? 0 : this.values[OBJECT_HOLDER]; }
}

/**
 * Applies one update's values (absolute or deltas) to `ent`; false when the count is wrong.
 * @param {Entity} ent
 * @param {number} mask
 * @param {any[]} arr the message array
 * @param {number} pos index of the first value in `arr`
 */
export function applyValues(ent, mask, arr, pos) {
  const groups = ent.kind === EntityKind.OBJECT ? OBJECT_GROUPS : AVATAR_GROUPS;
  const abs = (mask & ABSOLUTE) !== 0;
  const v = ent.values;
  for (const [bit, start, n] of groups) {
    if (!(mask & bit)) continue;
    for (let k = 0; k < n; k++) {
      const x = arr[pos + k];
      v[start + k] = abs ? x : v[start + k] + x;
    }
    pos += n;
  }
  return pos === arr.length;
}

// ------------------------------------------------------------------ events

/**
 * A small typed event emitter (browsers and Node alike). A listener that throws does not stop
 * the others or the client: the error is rethrown from a microtask, so it is still reported.
 * @template {Record<string, any>} E event name -> payload
 */
export class Emitter {
  constructor() {
    /** @type {Map<keyof E, Set<(ev: any) => void>>} */
    this._listeners = new Map();
  }

  /**
   * @template {keyof E} K
   * @param {K} type
   * @param {(ev: E[K]) => void} fn
   * @returns {() => void} call it to unsubscribe
   */
  on(type, fn) {
    let set = this._listeners.get(type);
    if (!set) this._listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => this.off(type, fn);
  }

  /**
   * @template {keyof E} K
   * @param {K} type
   * @param {(ev: E[K]) => void} fn
   */
  off(type, fn) {
    this._listeners.get(type)?.delete(fn);
  }

  /**
   * @template {keyof E} K
   * @param {K} type
   * @param {(ev: E[K]) => void} fn
   * @returns {() => void}
   */
  once(type, fn) {
    const off = this.on(type, (ev) => { off(); fn(ev); });
    return off;
  }

  /**
   * Resolves with the next `type` event for which `test` holds; rejects after `timeoutMs`.
   * @template {keyof E} K
   * @param {K} type
   * @param {(ev: E[K]) => boolean} [test]
   * @param {number} [timeoutMs] 0 = wait forever
   * @returns {Promise<E[K]>}
   */
  waitFor(type, test = () => true, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      const off = this.on(type, (ev) => {
        if (!test(ev)) return;
        off();
        clearTimeout(timer);
        resolve(ev);
      });
      if (timeoutMs > 0) {
        timer = setTimeout(() => { off(); reject(new Error(`timed out waiting for "${String(type)}"`)); }, timeoutMs);
      }
    });
  }

  /**
   * @template {keyof E} K
   * @param {K} type
   * @param {E[K]} ev
   * @returns {boolean} whether anyone listened
   */
  emit(type, ev) {
    const set = this._listeners.get(type);
    if (!set || set.size === 0) return false;
    for (const fn of [...set]) {
      try {
        fn(ev);
      } catch (e) {
        queueMicrotask(() => { throw e; });
      }
    }
    return true;
  }
}

// ------------------------------------------------------------------ the client

/**
 * What a WebSocket must offer (the browser's and `ws`'s both do).
 * @typedef {object} SocketLike
 * @property {number} readyState
 * @property {string} binaryType
 * @property {(data: Uint8Array) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {((ev: any) => void) | null} onopen
 * @property {((ev: any) => void) | null} onmessage
 * @property {((ev: any) => void) | null} onclose
 * @property {((ev: any) => void) | null} onerror
 */
/** @typedef {new (url: string) => SocketLike} SocketConstructor */

/**
 * Where the guest/account token lives between connections (the web client: localStorage).
 * @typedef {object} TokenStore
 * @property {() => string | null | undefined} get
 * @property {(token: string | null) => void} set
 */

/**
 * @typedef {object} ClientOptions
 * @property {string} url `ws://host:port/ws` (or `wss://`)
 * @property {SocketConstructor} [WebSocket] default: the global WebSocket
 * @property {string | TokenStore | null} [token] a token to send in HELLO, or a store for it
 * @property {boolean} [reconnect] reconnect with backoff after a lost connection (default true)
 * @property {readonly number[]} [backoffMs] delays for reconnect tries (default DEFAULT_BACKOFF_MS)
 * @property {number} [pingMs] PING period once joined; 0 = never (default 2000)
 * @property {() => number} [now] local clock in ms (default performance.now)
 * @property {() => number} [random] for backoff jitter (default Math.random)
 */

/**
 * @typedef {object} JoinOptions
 * @property {string} name display name (1-32 characters)
 * @property {string} world world id
 * @property {string} [color] `#rrggbb`
 * @property {{look?: string, accessory?: string}} [avatar] names from AVATAR_LOOKS / AVATAR_ACCESSORIES
 * @property {string} [invite] invite token for a private world
 * @property {string} [instance] preferred instance, e.g. `"lobby#2"`
 */

/**
 * WELCOME's map (docs/protocol.md lists every key).
 * @typedef {object} Welcome
 * @property {number} v
 * @property {string} session
 * @property {number} id your avatar's entity id
 * @property {string} world
 * @property {string} instance
 * @property {number} tick_rate
 * @property {number} input_rate
 * @property {number} server_time
 * @property {number[]} spawn [x, y, z, yaw_deg]
 * @property {number[][]} bounds [[minx, miny, minz], [maxx, maxy, maxz]]
 * @property {Record<string, number>} objects object id -> entity id
 * @property {Array<[number, string, string, {look: string, accessory: string}]>} roster [entity, name, color, avatar]
 * @property {Record<string, any>} world_info
 * @property {Record<string, number>} limits
 * @property {{pos_unit_m: number, rot_scale: number}} quant
 * @property {string} user
 * @property {string} [token]
 * @property {string} role
 * @property {string[]} permissions
 * @property {any[]} events
 * @property {string | null} pinned
 */

/** @typedef {'offline' | 'connecting' | 'connected' | 'reconnecting' | 'failed'} ConnState */

/**
 * Events of a PlazaClient (name -> payload).
 * @typedef {object} ClientEvents
 * @property {{state: ConnState, text: string}} status
 * @property {Welcome} welcome
 * @property {{entity: Entity, t: number}} enter an entity came into view (t: tick time, ms)
 * @property {{id: number, entity: Entity}} leave
 * @property {{tick: number, serverTime: number, t: number}} state a STATE was applied
 * @property {{entity: number, granted: boolean, code: number}} grabResult
 * @property {{from: number, name: string, text: string, serverTime: number}} chat
 * @property {{event: number, entity: number, name: string}} presence
 * @property {{rttMs: number, offsetMs: number}} pong
 * @property {{code: number, name: string, text: string, ref: number}} error an ERROR from the server
 * @property {number[]} teleported floor point [x, y, z]
 * @property {{worldInfo: Record<string, any>, objects: Record<string, number>}} worldUpdate
 * @property {{kind: number, text: string, data: Record<string, any>}} notice
 * @property {any[]} suggestions
 * @property {string} token a new guest token from WELCOME (already in the token store)
 * @property {void} tokenRejected the server refused our token; it was dropped, we retry as a guest
 * @property {{code: number, reason: string, willRetry: boolean}} close
 * @property {{code: number, reason: string}} fatal closed for good (see FATAL_CLOSES)
 * @property {any[]} message every decoded message, before the client handles it
 * @property {string} warning something odd in what the server sent
 */

/** Raised (as the join() rejection) when the server closes for good, or leave() is called. */
export class PlazaClosedError extends Error {
  /** @param {number} code @param {string} reason */
  constructor(code, reason) {
    super(`connection closed (${code}${reason ? ': ' + reason : ''})`);
    this.name = 'PlazaClosedError';
    this.code = code;
    this.reason = reason;
  }
}

/** @extends {Emitter<ClientEvents>} */
export class PlazaClient extends Emitter {
  /** @param {ClientOptions} options */
  constructor(options) {
    super();
    this.url = options.url;
    const Ctor = options.WebSocket ?? /** @type {any} */ (globalThis).WebSocket;
    if (!Ctor) throw new Error("plaza: no global WebSocket here; pass { WebSocket } from the 'ws' package");
    /** @type {SocketConstructor} */
    this.WebSocket = Ctor;
    const t = options.token;
    /** @type {TokenStore} */
    this.tokens = t && typeof t === 'object' ? t : memoryStore(t ?? null);
    this.reconnect = options.reconnect ?? true;
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.pingMs = options.pingMs ?? DEFAULT_PING_MS;
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    // float32 keeps POSE frames small (~100 bytes); mm precision needs only 24 bits.
    this.encoder = new Encoder({ forceFloat32: true });
    this.decoder = new Decoder();
    /** @type {SocketLike | null} */
    this.ws = null;
    /** @type {Map<number, Entity>} */
    this.entities = new Map();
    /** @type {Welcome | null} */
    this.welcome = null;
    /** @type {Record<string, any> | null} */
    this.hello = null;
    /** True between WELCOME and the socket closing. */
    this.connected = false;
    this.closedByUs = false;
    this.tokenRejected = false;
    /** Reconnect tries since the last WELCOME. */
    this.attempt = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.pingTimer = undefined;
    this.rttMs = NaN;
    this.serverOffsetMs = 0; // server_time ≈ now() + serverOffsetMs
    /** @type {ConnState} */
    this.statusState = 'offline';
    /** @type {{resolve: (w: Welcome) => void, reject: (e: Error) => void} | null} */
    this._pending = null;
    /**
     * The last MOVED: where the instance we are sent to lives (a worker of a cluster). The close
     * 4012 that follows opens its url at once; later reconnects go back to `url`.
     * @type {{url: string, world: string, instance: string, spawn?: string} | null}
     */
    this.moved = null;
  }

  /** Your avatar's entity id (0 before WELCOME). */
  get selfId() { return this.welcome ? this.welcome.id : 0; }

  /**
   * Join a world; keeps reconnecting until leave(). Resolves at WELCOME; rejects with a
   * PlazaClosedError when the server refuses for good (or leave() comes first).
   * @param {JoinOptions} options
   * @returns {Promise<Welcome>}
   */
  join({ name, world, color, avatar, invite, instance }) {
    this._drop();
    /** @type {Record<string, any>} */
    const hello = { v: PROTOCOL_VERSION, name, world };
    if (color) hello.color = color;
    if (avatar) hello.avatar = avatar;
    if (invite) hello.invite = invite;
    if (instance) hello.instance = instance;
    this.hello = hello;
    this.closedByUs = false;
    this.attempt = 0;
    this._settle(new PlazaClosedError(CloseCode.NORMAL, 'superseded by another join'));
    const p = new Promise((resolve, reject) => { this._pending = { resolve, reject }; });
    this._open();
    return /** @type {Promise<Welcome>} */ (p);
  }

  /** Close the connection and stop reconnecting. */
  leave() {
    this.closedByUs = true;
    this._drop();
    this._status('offline', 'Not connected');
    this._settle(new PlazaClosedError(CloseCode.NORMAL, 'left'));
  }

  /** Local clock -> the server's clock (ms), from WELCOME and PONGs. */
  serverNow() { return this.now() + this.serverOffsetMs; }

  // ---- sending

  /**
   * Encode and send a message array whenever the socket is open. False when it is not.
   * @param {any[]} msg
   */
  sendRaw(msg) {
    return this.sendFrame(this.encoder.encode(msg));
  }

  /**
   * Send already-encoded bytes as one binary frame (false when the socket is not open).
   * @param {Uint8Array} bytes
   */
  sendFrame(bytes) {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return false;
    ws.send(bytes);
    return true;
  }

  /**
   * Send a message array once joined (after WELCOME); false otherwise.
   * @param {any[]} msg
   */
  send(msg) { return this.connected && this.sendRaw(msg); }

  /**
   * POSE: head, left, right are [px, py, pz, qx, qy, qz, qw] in world metres.
   * @param {ArrayLike<number>} head
   * @param {ArrayLike<number>} left
   * @param {ArrayLike<number>} right
   * @param {number} [ts] default: the local clock, ms mod 2^32
   */
  pose(head, left, right, ts = Math.floor(this.now()) >>> 0) {
    return this.send([Msg.POSE, ts >>> 0, Array.from(head), Array.from(left), Array.from(right)]);
  }

  /** @param {string} text */
  chat(text) { return this.send([Msg.CHAT, text]); }

  /** @param {number} entity */
  grab(entity) { return this.send([Msg.GRAB, entity]); }

  /** @param {number} entity @param {ArrayLike<number>} pose */
  moveObject(entity, pose) { return this.send([Msg.OBJECT_MOVE, entity, Array.from(pose)]); }

  /** @param {number} entity @param {ArrayLike<number>} pose @param {ArrayLike<number>} velocity */
  release(entity, pose, velocity) {
    return this.send([Msg.RELEASE, entity, Array.from(pose), Array.from(velocity)]);
  }

  /** @param {ArrayLike<number>} target floor point [x, y, z] */
  teleport(target) { return this.send([Msg.TELEPORT, Array.from(target)]); }

  /** @param {string} world @param {string} [spawn] */
  travel(world, spawn) { return this.send(spawn ? [Msg.TRAVEL, world, spawn] : [Msg.TRAVEL, world]); }

  /** @param {string} action @param {number} target @param {Record<string, any>} [options] */
  moderate(action, target, options = {}) { return this.send([Msg.MODERATE, action, target, options]); }

  /** @param {number} target @param {string} reason */
  report(target, reason) { return this.send([Msg.REPORT, target, reason]); }

  /** @param {string} eventKey @param {string} action @param {Record<string, any>} [args] */
  host(eventKey, action, args = {}) { return this.send([Msg.HOST, eventKey, action, args]); }

  /** @param {string} eventKey @param {boolean} going */
  rsvp(eventKey, going) { return this.send([Msg.RSVP, eventKey, going]); }

  /** PING now (the client also pings every `pingMs` once joined). */
  ping() { return this.sendRaw([Msg.PING, this.now()]); }

  // ---- connection

  /** @param {ConnState} state @param {string} text */
  _status(state, text) {
    this.statusState = state;
    this.emit('status', { state, text });
  }

  /** @param {Error | null} err */
  _settle(err, /** @type {Welcome | null} */ welcome = null) {
    const p = this._pending;
    if (!p) return;
    this._pending = null;
    if (err) p.reject(err);
    else if (welcome) p.resolve(welcome);
  }

  _drop() {
    this.moved = null;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    this.connected = false;
    if (ws) {
      try { ws.close(CloseCode.NORMAL); } catch { /* already closing */ }
    }
  }

  _open() {
    this._status(this.attempt ? 'reconnecting' : 'connecting', this.attempt ? `Reconnecting… (try ${this.attempt + 1})` : 'Connecting…');
    /** @type {SocketLike} */
    let ws;
    const moved = this.moved;
    this.moved = null;
    try {
      ws = new this.WebSocket(moved ? moved.url : this.url);
    } catch (e) {
      this._retryOrFail(0, String(e));
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws || !this.hello) return;
      // Resume where we were: same world, and the same instance if there is room.
      const hello = { ...this.hello };
      if (this.welcome && this.welcome.world === hello.world) hello.instance = this.welcome.instance;
      if (moved) {
        hello.world = moved.world;
        hello.instance = moved.instance;
        if (moved.spawn) hello.spawn = moved.spawn;
      }
      const token = this.tokens.get();
      if (token && !this.tokenRejected) hello.token = token;
      this.sendRaw([Msg.HELLO, hello]);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = this.decoder.decode(ev.data);
      } catch (e) {
        this._warn(`undecodable frame: ${e}`);
        return;
      }
      if (Array.isArray(msg)) this._dispatch(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.connected = false;
      clearInterval(this.pingTimer);
      const code = ev.code ?? 0, reason = String(ev.reason ?? '');
      if (this.closedByUs) return;
      if (code === CloseCode.MOVED && this.moved) {
        // Sent to the worker that has our instance: go there now (not a failure, no backoff).
        this.emit('close', { code, reason, willRetry: true });
        this._open();
        return;
      }
      if (code === CloseCode.UNAUTHORIZED && !this.tokenRejected && this.tokens.get()) {
        // A stale or foreign token: forget it and join as a new guest.
        this.tokenRejected = true;
        this.tokens.set(null);
        this.emit('tokenRejected', undefined);
        this.emit('close', { code, reason, willRetry: true });
        this._scheduleRetry();
        return;
      }
      this._retryOrFail(code, reason);
    };
    ws.onerror = () => {}; // onclose follows and does the work
  }

  /** @param {number} code @param {string} reason */
  _retryOrFail(code, reason) {
    const fatal = FATAL_CLOSES.has(code) || code === CloseCode.UNAUTHORIZED || !this.reconnect;
    this.emit('close', { code, reason, willRetry: !fatal });
    if (!fatal) {
      this._scheduleRetry();
      return;
    }
    this.closedByUs = true; // nothing more will happen on its own
    this._status('failed', `Disconnected (${code}${reason ? ': ' + reason : ''})`);
    this.emit('fatal', { code, reason });
    this._settle(new PlazaClosedError(code, reason));
  }

  _scheduleRetry() {
    const b = this.backoffMs;
    const base = b[Math.min(this.attempt, b.length - 1)];
    const delay = base * (0.8 + 0.4 * this.random());
    this.attempt++;
    this._status('reconnecting', `Connection lost — reconnecting in ${(delay / 1000).toFixed(1)} s (try ${this.attempt})`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this._open(), delay);
  }

  /** @param {string} text */
  _warn(text) {
    if (!this.emit('warning', text)) console.warn(`plaza: ${text}`);
  }

  /** @param {any[]} msg */
  _dispatch(msg) {
    this.emit('message', msg);
    switch (msg[0]) {
      case Msg.WELCOME: this._welcome(msg[1]); break;
      case Msg.STATE: this._state(msg); break;
      case Msg.GRAB_RESULT: this.emit('grabResult', { entity: msg[1], granted: msg[2], code: msg[3] }); break;
      case Msg.CHAT_MSG: this.emit('chat', { from: msg[1], name: msg[2], text: msg[3], serverTime: msg[4] }); break;
      case Msg.PRESENCE: this.emit('presence', { event: msg[1], entity: msg[2], name: msg[3] }); break;
      case Msg.PONG: {
        const now = this.now();
        this.rttMs = now - msg[1];
        this.serverOffsetMs = msg[2] + this.rttMs / 2 - now;
        this.emit('pong', { rttMs: this.rttMs, offsetMs: this.serverOffsetMs });
        break;
      }
      case Msg.ERROR:
        this.emit('error', { code: msg[1], name: ErrorName[msg[1]] || String(msg[1]), text: msg[2], ref: msg[3] });
        break;
      case Msg.TELEPORTED: this.emit('teleported', msg[1]); break;
      case Msg.WORLD_UPDATE: this.emit('worldUpdate', { worldInfo: msg[1], objects: msg[2] }); break;
      case Msg.NOTICE: this.emit('notice', { kind: msg[1], text: msg[2], data: msg[3] || {} }); break;
      case Msg.SUGGESTIONS: if (Array.isArray(msg[1])) this.emit('suggestions', msg[1]); break;
      case Msg.MOVED:
        if (msg[1] && typeof msg[1].url === 'string' && /^wss?:\/\//.test(msg[1].url)) this.moved = msg[1];
        break;
      default: break;
    }
  }

  /** @param {Welcome} w */
  _welcome(w) {
    this.welcome = w;
    if (this.hello) this.hello.world = w.world;
    if (typeof w.token === 'string' && w.token) {
      this.tokens.set(w.token);
      this.emit('token', w.token);
    }
    this.tokenRejected = false;
    this.entities.clear();
    this.connected = true;
    this.attempt = 0;
    this.serverOffsetMs = w.server_time - this.now();
    clearInterval(this.pingTimer);
    if (this.pingMs > 0) this.pingTimer = setInterval(() => this.ping(), this.pingMs);
    this.ping();
    this._status('connected', 'Connected');
    this.emit('welcome', w);
    this._settle(null, w);
  }

  // Apply leaves, enters, updates — in that order (docs/protocol.md, STATE).
  /** @param {any[]} msg */
  _state(msg) {
    const [, tick, serverTime, enters, updates, leaves] = msg;
    const tickRate = this.welcome ? this.welcome.tick_rate : 20;
    const t = (tick * 1000) / tickRate;
    for (const id of leaves) {
      const entity = this.entities.get(id);
      if (entity) {
        this.entities.delete(id);
        this.emit('leave', { id, entity });
      }
    }
    for (const e of enters) {
      const entity = new Entity(e[0], e[1], e[2] || {});
      if (!applyValues(entity, e[3], e, 4)) {
        this._warn(`entity ${entity.id}: wrong number of values for mask ${e[3]}`);
        continue;
      }
      this.entities.set(entity.id, entity);
      this.emit('enter', { entity, t });
    }
    for (const u of updates) {
      const entity = this.entities.get(u[0]);
      if (!entity) { this._warn(`update for unknown entity ${u[0]}`); continue; }
      if (!applyValues(entity, u[1], u, 2)) this._warn(`entity ${entity.id}: wrong number of values for mask ${u[1]}`);
    }
    // Every known entity has a snapshot at this tick (unchanged ones are simply repeated), so
    // an interpolating renderer always has the current tick as its newest sample.
    this.emit('state', { tick, serverTime, t });
  }
}

/** @param {string | null} token @returns {TokenStore} */
function memoryStore(token) {
  let t = token;
  return { get: () => t, set: (v) => { t = v; } };
}
