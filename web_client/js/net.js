// The WebSocket connection: msgpack framing, HELLO/WELCOME, the STATE mirror (integers, exactly
// as docs/protocol.md describes), clock sync with PING, and reconnect with backoff that
// resumes in the same world (and instance) without reloading the page.
import { Encoder, Decoder } from '@msgpack/msgpack';
import {
  ABSOLUTE, AVATAR_GROUPS, OBJECT_GROUPS, N_VALUES, EntityKind, Msg, FATAL_CLOSES, PROTOCOL_VERSION, CloseCode,
} from './protocol.js';

// The guest token from WELCOME: sent in later HELLOs so a reconnect (or a reload) stays the
// same guest (same user key, same permissions). Never put in a URL.
export const TOKEN_KEY = 'plaza.token';

const BACKOFF_MS = [300, 700, 1500, 3000, 5000]; // then 5 s forever (plus jitter)
const PING_EVERY_MS = 2000;

export class MirrorEntity {
  constructor(id, kind, info) {
    this.id = id;
    this.kind = kind;
    this.info = info;
    this.values = new Float64Array(N_VALUES); // integers (mm, rot*4095, ts); float64 holds uint32 exactly
  }
}

export class Net {
  /**
   * @param {object} h callbacks: welcome, enter, leave, updated, grabResult, chat, presence,
   *   error, teleported, worldUpdate, notice, suggestions, tokenRejected, status
   */
  constructor(h) {
    this.h = h;
    // float32 keeps POSE frames small (~100 bytes); mm precision needs only 24 bits.
    this.encoder = new Encoder({ forceFloat32: true });
    this.decoder = new Decoder();
    this.ws = null;
    this.entities = new Map();
    this.welcome = null;
    this.hello = null;
    this.connected = false;
    this.closedByUs = false;
    this.attempt = 0;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.rttMs = NaN;
    this.serverOffsetMs = 0; // server_time ≈ performance.now() + serverOffsetMs
    this.statusText = 'offline';
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/ws`;
  }

  /** Join `world` as `name`; keeps trying until left. */
  join(name, world, color) {
    this.hello = { v: PROTOCOL_VERSION, name, world };
    if (color) this.hello.color = color;
    this.closedByUs = false;
    this.attempt = 0;
    this._open();
  }

  leave() {
    this.closedByUs = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.connected = false;
    this._status('offline', 'Not connected');
  }

  _status(state, text) {
    this.statusText = state;
    this.h.status?.(state, text);
  }

  _open() {
    this._status(this.attempt ? 'reconnecting' : 'connecting', this.attempt ? `Reconnecting… (try ${this.attempt + 1})` : 'Connecting…');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this._scheduleRetry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      // Resume where we were: same world, and the same instance if there is room.
      const hello = { ...this.hello };
      if (this.welcome && this.welcome.world === hello.world) hello.instance = this.welcome.instance;
      const token = localStorage.getItem(TOKEN_KEY);
      if (token && !this.tokenRejected) hello.token = token;
      this.sendRaw([Msg.HELLO, hello]);
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = this.decoder.decode(ev.data);
      } catch (e) {
        console.warn('plaza: undecodable frame', e);
        return;
      }
      this._dispatch(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.connected = false;
      clearInterval(this.pingTimer);
      if (this.closedByUs) return;
      if (ev.code === CloseCode.UNAUTHORIZED && !this.tokenRejected && localStorage.getItem(TOKEN_KEY)) {
        // A stale or foreign token: forget it and join as a new guest.
        this.tokenRejected = true;
        localStorage.removeItem(TOKEN_KEY);
        this.h.tokenRejected?.();
        this._scheduleRetry();
        return;
      }
      if (FATAL_CLOSES.has(ev.code) || ev.code === CloseCode.UNAUTHORIZED) {
        this._status('failed', `Disconnected (${ev.code}${ev.reason ? ': ' + ev.reason : ''})`);
        this.h.fatal?.(ev.code, ev.reason);
        return;
      }
      this._scheduleRetry();
    };
    ws.onerror = () => {}; // onclose follows and does the work
  }

  _scheduleRetry() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = base * (0.8 + 0.4 * Math.random());
    this.attempt++;
    this._status('reconnecting', `Connection lost — reconnecting in ${(delay / 1000).toFixed(1)} s (try ${this.attempt})`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this._open(), delay);
  }

  /** Encode and send a message (array). Returns false when not connected. */
  sendRaw(msg) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    // encodeSharedRef avoids a copy; send() copies the bytes into its own buffer synchronously.
    ws.send(this.encoder.encodeSharedRef(msg));
    return true;
  }

  send(msg) { return this.connected && this.sendRaw(msg); }

  serverNow() { return performance.now() + this.serverOffsetMs; }

  _ping() { this.sendRaw([Msg.PING, performance.now()]); }

  _dispatch(msg) {
    if (!Array.isArray(msg)) return;
    const h = this.h;
    switch (msg[0]) {
      case Msg.WELCOME: {
        const w = msg[1];
        this.welcome = w;
        this.hello.world = w.world;
        if (typeof w.token === 'string' && w.token) localStorage.setItem(TOKEN_KEY, w.token);
        this.tokenRejected = false;
        this.entities.clear();
        this.connected = true;
        this.attempt = 0;
        this.serverOffsetMs = w.server_time - performance.now();
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this._ping(), PING_EVERY_MS);
        this._ping();
        this._status('connected', 'Connected');
        h.welcome(w);
        break;
      }
      case Msg.STATE: this._state(msg); break;
      case Msg.GRAB_RESULT: h.grabResult?.(msg[1], msg[2], msg[3]); break;
      case Msg.CHAT_MSG: h.chat?.(msg[1], msg[2], msg[3], msg[4]); break;
      case Msg.PRESENCE: h.presence?.(msg[1], msg[2], msg[3]); break;
      case Msg.PONG: {
        const now = performance.now();
        this.rttMs = now - msg[1];
        this.serverOffsetMs = msg[2] + this.rttMs / 2 - now;
        h.pong?.(this.rttMs);
        break;
      }
      case Msg.ERROR: h.error?.(msg[1], msg[2], msg[3]); break;
      case Msg.TELEPORTED: h.teleported?.(msg[1]); break;
      case Msg.WORLD_UPDATE: h.worldUpdate?.(msg[1]); break;
      case Msg.NOTICE: h.notice?.(msg[1], msg[2], msg[3] || {}); break;
      case Msg.SUGGESTIONS: if (Array.isArray(msg[1])) h.suggestions?.(msg[1]); break;
      default: break;
    }
  }

  // Apply leaves, enters, updates — in that order (docs/protocol.md, STATE).
  _state(msg) {
    const [, tick, , enters, updates, leaves] = msg;
    const tickRate = this.welcome ? this.welcome.tick_rate : 20;
    const t = (tick * 1000) / tickRate;
    for (const id of leaves) {
      if (this.entities.delete(id)) this.h.leave(id);
    }
    for (const e of enters) {
      const ent = new MirrorEntity(e[0], e[1], e[2] || {});
      if (!apply(ent, e[3], e, 4)) continue;
      this.entities.set(ent.id, ent);
      this.h.enter(ent, t);
    }
    for (const u of updates) {
      const ent = this.entities.get(u[0]);
      if (!ent) { console.warn('plaza: update for unknown entity', u[0]); continue; }
      apply(ent, u[1], u, 2);
    }
    // Every known entity gets a snapshot at this tick (unchanged ones are simply repeated),
    // so interpolation always has the current tick as its newest sample.
    this.h.state(t, tick);
  }
}

function apply(ent, mask, arr, pos) {
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
  if (pos !== arr.length) {
    console.warn(`plaza: entity ${ent.id}: ${arr.length - pos} values left over for mask ${mask}`);
    return false;
  }
  return true;
}
