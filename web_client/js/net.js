// The web client's side of the connection: a thin adapter over the SDK's PlazaClient
// (sdk/js/src/client.js, served at /sdk/client.js), which does the protocol work — msgpack
// framing, HELLO/WELCOME, the STATE mirror, PING clock sync, reconnect with backoff. This
// file adds what is browser- and app-specific: the page's /ws URL, the guest token kept in
// localStorage, and the App's callbacks.
import { PlazaClient } from '@plaza/sdk/client.js';
import { Msg } from '@plaza/sdk/protocol.js';

// The guest token from WELCOME: sent in later HELLOs so a reconnect (or a reload) stays the
// same guest (same user key, same permissions). Never put in a URL.
export const TOKEN_KEY = 'plaza.token';

const tokenStore = {
  get: () => localStorage.getItem(TOKEN_KEY),
  /** @param {string | null} t */
  set: (t) => { if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY); },
};

function wsUrl() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws`;
}

export class Net {
  /**
   * @param {object} h callbacks: welcome, enter, leave, state, grabResult, chat, presence, pong,
   *   error, teleported, worldUpdate, notice, suggestions, tokenRejected, status, fatal
   */
  constructor(h) {
    this.h = h;
    const c = new PlazaClient({ url: wsUrl(), token: tokenStore });
    this.client = c;
    c.on('status', ({ state, text }) => h.status?.(state, text));
    c.on('fatal', ({ code, reason }) => h.fatal?.(code, reason));
    c.on('welcome', (w) => h.welcome(w));
    c.on('enter', ({ entity, t }) => h.enter(entity, t));
    c.on('leave', ({ id }) => h.leave(id));
    c.on('state', ({ t, tick }) => h.state(t, tick));
    c.on('grabResult', ({ entity, granted, code }) => h.grabResult?.(entity, granted, code));
    c.on('chat', ({ from, name, text, serverTime }) => h.chat?.(from, name, text, serverTime));
    c.on('presence', ({ event, entity, name }) => h.presence?.(event, entity, name));
    c.on('pong', ({ rttMs }) => h.pong?.(rttMs));
    c.on('error', ({ code, text, ref }) => h.error?.(code, text, ref));
    c.on('teleported', (target) => h.teleported?.(target));
    c.on('worldUpdate', ({ worldInfo }) => h.worldUpdate?.(worldInfo));
    c.on('notice', ({ kind, text, data }) => h.notice?.(kind, text, data));
    c.on('suggestions', (items) => h.suggestions?.(items));
    c.on('tokenRejected', () => h.tokenRejected?.());
    c.on('warning', (text) => console.warn(`plaza: ${text}`));
    // REACTION (80) has no SDK event of its own: read it off the raw message stream.
    c.on('message', (m) => { if (m[0] === Msg.REACTION) h.reaction?.(m[1], m[2]); });
  }

  /** Entities in view (SDK Entity: id, kind, info, values as integers). */
  get entities() { return this.client.entities; }
  get welcome() { return this.client.welcome; }
  get connected() { return this.client.connected; }
  get statusText() { return this.client.statusState; }
  get rttMs() { return this.client.rttMs; }

  /** Join `world` as `name`; keeps trying until left (failures arrive as status/fatal). */
  join(name, world, color, invite = null, avatar = null, instance = null) {
    this.client.join({ name, world, color, ...(avatar ? { avatar } : {}), ...(invite ? { invite } : {}), ...(instance ? { instance } : {}) }).catch(() => {});
  }

  leave() { this.client.leave(); }

  /** Encode and send a message (array) once joined; false otherwise. */
  send(msg) { return this.client.send(msg); }

  sendRaw(msg) { return this.client.sendRaw(msg); }

  serverNow() { return this.client.serverNow(); }
}
