// Spatial voice: the microphone to a Janus VideoRoom (audio-only SFU), and the voices the
// server says this listener should hear (AUDIBLE: nearest K within the radius, plus the
// stage) from it, each panned from the speaker's head (Web Audio PannerNode, HRTF).
//
// Plaza owns the rooms: VOICE_JOIN gets a single-use credential (VOICE_CREDENTIAL) for our own
// publisher in our instance's room; Janus is reached through Plaza's /janus (same origin, so
// --https covers it). Janus' JSON API is spoken directly over HTTP (POST + long-poll GET).
// docs/protocol.md (Voice) describes the messages; docs/client.md the controls.
import { Msg, ErrorCode } from './protocol.js';

const tx = () => Math.random().toString(36).slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SPEAKING_RMS = 0.02; // local mic level above which we count as speaking
const SPEAKING_HOLD_MS = 400;
const LEVEL_HOLD_MS = 250; // a peer's level is the peak of this window (meters, tests)
const STAGE_GAIN = 0.8; // stage voices: the same volume everywhere, no panning
const STAGE = 1; // AUDIBLE peer flag
export const VoiceFlag = Object.freeze({ CONNECTED: 1, MUTED: 2, SPEAKING: 4, MOD_MUTED: 8 });

/** [x, y, z] of an array or a three.js vector. */
const xyz = (v) => (Array.isArray(v) ? v : [v.x, v.y, v.z]);

/** Why voice cannot work on this page, or null. */
export function voiceBlocker() {
  if (!window.isSecureContext) {
    return 'Voice needs a secure page: open Plaza over https (start it with `plaza serve --https`) or on localhost.';
  }
  if (!navigator.mediaDevices?.getUserMedia || !window.RTCPeerConnection) {
    return 'This browser cannot send voice (no getUserMedia / WebRTC).';
  }
  return null;
}

// ----- Janus' JSON API over HTTP ----------------------------------------------------------------
export class JanusSession {
  constructor(url) { this.url = url; this.waiters = new Map(); this.handles = new Map(); this.alive = false; }

  async post(path, body) {
    // No Content-Type header: a "simple" request (no CORS preflight when Janus is external).
    const r = await fetch(this.url + path, { method: 'POST', body: JSON.stringify({ ...body, transaction: body.transaction || tx() }) });
    return r.json();
  }

  async connect() {
    const r = await this.post('', { janus: 'create' });
    if (r.janus !== 'success') throw new Error(`janus: ${r.error?.reason || 'create failed'}`);
    this.id = r.data.id;
    this.alive = true;
    this.poll();
    this.keepalive = setInterval(() => this.post(`/${this.id}`, { janus: 'keepalive' }).catch(() => {}), 25000);
    return this;
  }

  async poll() {
    while (this.alive) {
      try {
        const r = await fetch(`${this.url}/${this.id}?maxev=10&rid=${Date.now()}`);
        const evs = await r.json();
        for (const ev of [].concat(evs)) this.dispatch(ev);
      } catch (e) { if (this.alive) await sleep(500); }
    }
  }

  dispatch(ev) {
    if (ev.janus === 'keepalive') return;
    const w = ev.transaction && this.waiters.get(ev.transaction);
    if (w && (ev.janus === 'event' || ev.janus === 'error')) { this.waiters.delete(ev.transaction); w(ev); return; }
    const h = this.handles.get(ev.sender);
    if (h) h.onmessage(ev);
    if (ev.janus === 'timeout') { this.alive = false; this.ontimeout?.(); }
  }

  async attach() {
    const r = await this.post(`/${this.id}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' });
    if (r.janus !== 'success') throw new Error(`janus: ${r.error?.reason || 'attach failed'}`);
    const h = new Handle(this, r.data.id);
    this.handles.set(h.id, h);
    return h;
  }

  destroy() {
    this.alive = false;
    clearInterval(this.keepalive);
    return this.post(`/${this.id}`, { janus: 'destroy' }).catch(() => {});
  }
}

class Handle {
  constructor(session, id) { this.s = session; this.id = id; this.onmessage = () => {}; }

  /** A plugin request; resolves with {data, jsep} of its (a)synchronous answer. */
  async send(body, jsep) {
    const t = tx();
    const waiting = new Promise((res) => this.s.waiters.set(t, res));
    const msg = { janus: 'message', transaction: t, body };
    if (jsep) msg.jsep = jsep;
    const r = await this.s.post(`/${this.s.id}/${this.id}`, msg);
    let ev = r;
    if (r.janus === 'ack') ev = await waiting;
    else this.s.waiters.delete(t);
    if (ev.janus === 'error') throw new Error(ev.error.reason);
    const data = ev.plugindata && ev.plugindata.data;
    if (data && data.error) throw new Error(`${data.error_code}: ${data.error}`);
    return { data, jsep: ev.jsep };
  }
}

async function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise((res) => {
    const done = () => { if (pc.iceGatheringState === 'complete') res(); };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(res, 3000); // some networks never complete: send what we have
  });
}

// ----- one Janus room: our participant there, and one subscriber connection for its voices -------
class RoomConn {
  /** @param {{session: JanusSession, room: number, pin: string, token: string, id: number, display: string}} o */
  constructor(o, onTrack, onGone, onKicked) {
    Object.assign(this, o);
    this.onTrack = onTrack; this.onGone = onGone; this.onKicked = onKicked;
    this.want = new Set(); // feeds we should receive
    this.have = new Set(); // feeds subscribed
    this.queue = Promise.resolve();
    this.midFeed = {};
  }

  async join() {
    this.pub = await this.session.attach();
    this.pub.onmessage = (ev) => {
      const d = ev.plugindata?.data;
      if (d && d.leaving === 'ok' && d.reason === 'kicked') this.onKicked(this);
      if (d && (d.unpublished !== undefined || d.leaving !== undefined || d.kicked !== undefined)) {
        const gone = d.unpublished ?? d.kicked ?? d.leaving;
        if (gone !== 'ok') this.have.delete(gone);
      }
      if (ev.janus === 'hangup' && this.pubPc) this.pubPc.close();
    };
    const { data } = await this.pub.send({ request: 'join', ptype: 'publisher', room: this.room, pin: this.pin,
      token: this.token, id: this.id, display: this.display });
    this.privateId = data.private_id;
  }

  async publish(track) {
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pubPc = pc;
    pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const { jsep } = await this.pub.send({ request: 'publish', audiocodec: 'opus' },
      { type: 'offer', sdp: pc.localDescription.sdp, trickle: false });
    await pc.setRemoteDescription(jsep);
    return pc;
  }

  /** Receive exactly these feeds (diffed; queued so renegotiations never overlap). */
  setFeeds(feeds) {
    this.want = new Set(feeds);
    this.queue = this.queue.then(() => this._apply()).catch((e) => console.warn(`voice: ${e.message}`));
    return this.queue;
  }

  async _apply() {
    const add = [...this.want].filter((f) => !this.have.has(f));
    const drop = [...this.have].filter((f) => !this.want.has(f));
    if (drop.length && this.sub) {
      drop.forEach((f) => this.have.delete(f));
      const { jsep } = await this.sub.send({ request: 'unsubscribe', streams: drop.map((feed) => ({ feed })) });
      drop.forEach((f) => this.onGone(f));
      if (jsep) await this._answer(jsep);
    }
    if (!add.length) return;
    add.forEach((f) => this.have.add(f));
    const streams = add.map((feed) => ({ feed }));
    if (!this.sub) {
      this.sub = await this.session.attach();
      this.sub.onmessage = (ev) => {
        const d = ev.plugindata?.data;
        if (d?.streams) this._mids(d.streams);
        if (ev.jsep) this.queue = this.queue.then(() => this._answer(ev.jsep)).catch((e) => console.warn(`voice: ${e.message}`));
      };
      this.subPc = new RTCPeerConnection({ iceServers: [] });
      this.subPc.ontrack = (e) => {
        const feed = this.midFeed[e.transceiver.mid];
        if (feed !== undefined) this.onTrack(feed, e.track, this);
      };
      const { data, jsep } = await this.sub.send({ request: 'join', ptype: 'subscriber', room: this.room,
        pin: this.pin, private_id: this.privateId, streams });
      this._mids(data.streams);
      await this._answer(jsep);
    } else {
      const { data, jsep } = await this.sub.send({ request: 'subscribe', streams });
      if (data?.streams) this._mids(data.streams);
      if (jsep) await this._answer(jsep);
    }
  }

  _mids(streams = []) {
    for (const s of streams) if (s.feed_id !== undefined && s.active !== false) this.midFeed[s.mid] = s.feed_id;
  }

  async _answer(offer) {
    await this.subPc.setRemoteDescription(offer);
    await this.subPc.setLocalDescription(await this.subPc.createAnswer());
    await gathered(this.subPc);
    await this.sub.send({ request: 'start' }, { type: 'answer', sdp: this.subPc.localDescription.sdp, trickle: false });
  }

  async close() {
    try { await this.pub?.send({ request: 'leave' }); } catch (e) { /* kicked already */ }
    this.pubPc?.close(); this.subPc?.close();
  }

  async inboundBytes() {
    let n = 0;
    if (!this.subPc) return n;
    (await this.subPc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') n += r.bytesReceived || 0; });
    return n;
  }
}

// ----- voice as the app sees it -------------------------------------------------------------------
export class Voice {
  /**
   * @param {object} o
   * @param {import('@plaza/sdk/client.js').PlazaClient} o.client
   * @param {(eid: number) => number[] | null} o.head an avatar's head position (world metres)
   * @param {(eid: number, speaking: boolean) => void} [o.onSpeaking] speaking indicator on avatars
   * @param {() => void} [o.onChange] the state changed (re-render the panel)
   */
  constructor(o) {
    this.client = o.client; this.head = o.head;
    this.onSpeaking = o.onSpeaking || (() => {}); this.onChange = o.onChange || (() => {});
    this.enabled = false; this.connected = false; this.muted = false; this.speaking = false;
    this.pushToTalk = false; this.talkHeld = false;
    this.error = voiceBlocker(); // said from the start: e.g. a plain-http LAN page cannot have voice
    this.modMuted = false;
    this.rooms = new Map(); // janus room id -> RoomConn
    this.voices = new Map(); // feed -> {eid, room, flags, panner, gain, analyser, level, hist, el}
    this.peerState = new Map(); // eid -> VoiceFlag bits
    this.volume = new Map(); // eid -> personal volume 0..2
    this.personalMute = new Set(); // eids
    this.mode = 'spatial'; this.radius = 15;
    this.firstAudioAt = null; this.enabledAt = null;
    this.client.on('message', (m) => this._message(m));
    this.client.on('welcome', (w) => this._welcome(w));
    this.meter = setInterval(() => this._measure(), 50);
  }

  /** Start voice (call from a click: the AudioContext and the mic prompt need a user gesture). */
  async enable() {
    const why = voiceBlocker();
    if (why) { this.error = why; this.onChange(); return false; }
    this.enabled = true; this.enabledAt = Date.now(); this.error = null;
    this.ctx = this.ctx || new AudioContext();
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    try {
      this.mic = this.mic || await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true }, video: false });
    } catch (e) {
      this.enabled = false;
      this.error = `Microphone blocked (${e.name}): allow it in the address bar's site settings, then try again.`;
      this.onChange();
      return false;
    }
    const src = this.ctx.createMediaStreamSource(this.mic);
    this.micAnalyser = new AnalyserNode(this.ctx, { fftSize: 1024 });
    src.connect(this.micAnalyser);
    this._applyMute();
    this.client.send([Msg.VOICE_JOIN, {}]);
    this.onChange();
    return true;
  }

  async disable() {
    this.enabled = false;
    await this._teardown();
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = null;
    this.onChange();
  }

  setMuted(m) { this.muted = !!m; this._applyMute(); this.onChange(); }
  toggleMute() { this.setMuted(!this.muted); }
  setPushToTalk(on) { this.pushToTalk = !!on; this._applyMute(); this.onChange(); }
  /** Push-to-talk key held (desktop V / a controller button). */
  setTalkHeld(held) { this.talkHeld = !!held; this._applyMute(); }
  setPeerVolume(eid, v) { this.volume.set(eid, Math.max(0, Math.min(2, v))); this._gains(); }
  setPeerMuted(eid, m) { if (m) this.personalMute.add(eid); else this.personalMute.delete(eid); this._gains(); this.onChange(); }

  _sending() { return !this.muted && (!this.pushToTalk || this.talkHeld); }

  _applyMute() {
    const on = this._sending();
    this.mic?.getAudioTracks().forEach((t) => { t.enabled = on; });
    if (this.connected) this.client.send([Msg.VOICE, { muted: !on, speaking: on && this.speaking }]);
  }

  _welcome(w) {
    const audio = w.world_info?.audio;
    if (audio) { this.mode = audio.mode || 'spatial'; this.radius = audio.radius || 15; }
    if (!this.enabled) return;
    // A new instance (travel, reconnect): new room, new credential.
    this._teardown().then(() => this.client.send([Msg.VOICE_JOIN, {}]));
  }

  async _message(m) {
    switch (m[0]) {
      case Msg.VOICE_CREDENTIAL: await this._connect(m[1]); break;
      case Msg.AUDIBLE: this._audible(m[1]); break;
      case Msg.VOICE_STATE: this._state(m[1]); break;
      case Msg.ERROR:
        if (m[1] === ErrorCode.VOICE_EXPIRED && this.enabled) this.client.send([Msg.VOICE_JOIN, {}]);
        else if (m[1] === ErrorCode.VOICE_UNAVAILABLE) { this.error = m[2]; this.enabled = false; this.onChange(); }
        break;
      default: break;
    }
  }

  async _connect(cred) {
    await this._teardown();
    if (!this.enabled) return;
    try {
      this.cred = cred;
      this.session = await new JanusSession(cred.url).connect();
      this.session.ontimeout = () => { if (this.enabled) this.client.send([Msg.VOICE_JOIN, {}]); };
      const own = this._room(cred.room, cred.pin, cred.token, cred.id, cred.display);
      this.ownRoom = cred.room;
      await own.join();
      this.pubPc = await own.publish(this.mic.getAudioTracks()[0]);
      this.connected = true;
      this._applyMute();
      if (this.lastAudible) this._audible(this.lastAudible);
    } catch (e) {
      this.error = `Voice could not connect: ${e.message}`;
      console.warn(`voice: ${this.error}`);
    }
    this.onChange();
  }

  _room(room, pin, token, id, display) {
    let rc = this.rooms.get(room);
    if (!rc) {
      rc = new RoomConn({ session: this.session, room, pin, token, id, display },
        (feed, track, rc) => this._track(feed, track, rc), (feed) => this._drop(feed),
        (r) => this._kicked(r));
      this.rooms.set(room, rc);
    }
    return rc;
  }

  /** The media server removed our participant from room `r`: our own room means voice is
   * down; a listen-only room is forgotten, so the next AUDIBLE's credential joins it afresh. */
  _kicked(r) {
    if (r.room === this.ownRoom) { this.connected = false; this.onChange(); return; }
    if (this.rooms.get(r.room) !== r) return;
    this.rooms.delete(r.room);
    for (const [feed, v] of this.voices) if (v.room === r) this._drop(feed);
    r.sub?.send({ request: 'leave' }).catch(() => {}); // its subscriber handle too
    r.close();
  }

  async _audible(body) {
    this.lastAudible = body; // applied once connected when it comes first
    if (!this.session || !this.connected) return;
    for (const [room, pin, token, id] of body.listen || []) {
      const old = this.rooms.get(room);
      if (old && room !== this.ownRoom && old.token !== token) this._kicked(old); // a newer credential
      if (!this.rooms.has(room)) {
        const rc = this._room(room, pin, token, id, 'listener');
        rc.joining = rc.join().catch((e) => console.warn(`voice: listen-only join failed: ${e.message}`));
      }
    }
    const byRoom = new Map([...this.rooms.keys()].map((r) => [r, []]));
    this.audible = body.peers.map(([feed, eid, room, flags, mm]) => ({ feed, eid, room, flags, distance: mm / 1000 }));
    for (const p of this.audible) {
      if (!byRoom.has(p.room)) continue; // a listen-only room not joined yet: next AUDIBLE
      byRoom.get(p.room).push(p.feed);
      const v = this.voices.get(p.feed);
      if (v) { v.eid = p.eid; v.flags = p.flags; }
    }
    for (const [room, feeds] of byRoom) {
      const rc = this.rooms.get(room);
      if (rc.joining) await rc.joining;
      rc.setFeeds(feeds);
    }
    this.onChange();
  }

  _state(rows) {
    const before = this.peerState;
    this.peerState = new Map(rows.map(([eid, flags]) => [eid, flags]));
    const me = this.peerState.get(this.client.selfId) || 0;
    this.modMuted = !!(me & VoiceFlag.MOD_MUTED);
    for (const [eid, flags] of this.peerState) {
      const was = before.get(eid) || 0;
      if ((flags & VoiceFlag.SPEAKING) !== (was & VoiceFlag.SPEAKING)) this.onSpeaking(eid, !!(flags & VoiceFlag.SPEAKING));
    }
    for (const [eid, was] of before) if (!this.peerState.has(eid) && (was & VoiceFlag.SPEAKING)) this.onSpeaking(eid, false);
    this.onChange();
  }

  _track(feed, track, rc) {
    const old = this.voices.get(feed);
    if (old) this._drop(feed);
    const meta = (this.audible || []).find((p) => p.feed === feed) || { eid: 0, flags: 0 };
    const stream = new MediaStream([track]);
    // Chrome feeds a remote WebRTC track into Web Audio only while a media element plays it too.
    const el = new Audio(); el.srcObject = stream; el.muted = true; el.play().catch(() => {});
    const ctx = this.ctx;
    const src = ctx.createMediaStreamSource(stream);
    const analyser = new AnalyserNode(ctx, { fftSize: 1024 });
    const gain = new GainNode(ctx, { gain: 1 });
    const out = new AnalyserNode(ctx, { fftSize: 1024 }); // what is played: after panner and gain
    const panner = new PannerNode(ctx, { panningModel: 'HRTF', distanceModel: 'inverse', refDistance: 1,
      maxDistance: this.radius * 2, rolloffFactor: 1 });
    src.connect(analyser);
    const v = { feed, eid: meta.eid, flags: meta.flags, room: rc, el, src, analyser, out, gain, panner,
      level: 0, heard: 0, hist: [], wired: null };
    this.voices.set(feed, v);
    this._wire(v);
    this._gains();
  }

  /** Stage voices and flat worlds: no panner; everyone else: panned from the head. */
  _wire(v) {
    const spatial = this.mode !== 'flat' && !(v.flags & STAGE);
    if (v.wired === spatial) return;
    v.src.disconnect(); v.gain.disconnect(); v.panner.disconnect();
    v.src.connect(v.analyser);
    if (spatial) v.src.connect(v.panner).connect(v.gain).connect(this.ctx.destination);
    else v.src.connect(v.gain).connect(this.ctx.destination);
    v.gain.connect(v.out);
    v.wired = spatial;
  }

  _gains() {
    for (const v of this.voices.values()) {
      const base = (v.flags & STAGE) ? STAGE_GAIN : 1;
      const g = this.personalMute.has(v.eid) ? 0 : base * (this.volume.get(v.eid) ?? 1);
      v.gain.gain.setTargetAtTime(g, this.ctx.currentTime, 0.02);
    }
  }

  _drop(feed) {
    const v = this.voices.get(feed);
    if (!v) return;
    v.src.disconnect(); v.gain.disconnect(); v.panner.disconnect();
    v.el.srcObject = null;
    this.voices.delete(feed);
  }

  /**
   * Every frame: the listener's pose (world metres; forward and up unit vectors) and the
   * speakers' heads into the panners.
   */
  frame(listener) {
    if (!this.ctx || !listener) return;
    const L = this.ctx.listener, t = this.ctx.currentTime;
    const [px, py, pz] = xyz(listener.p), [fx, fy, fz] = xyz(listener.fwd), [ux, uy, uz] = xyz(listener.up);
    if (L.positionX) {
      L.positionX.setTargetAtTime(px, t, 0.02); L.positionY.setTargetAtTime(py, t, 0.02); L.positionZ.setTargetAtTime(pz, t, 0.02);
      L.forwardX.setTargetAtTime(fx, t, 0.02); L.forwardY.setTargetAtTime(fy, t, 0.02); L.forwardZ.setTargetAtTime(fz, t, 0.02);
      L.upX.setTargetAtTime(ux, t, 0.02); L.upY.setTargetAtTime(uy, t, 0.02); L.upZ.setTargetAtTime(uz, t, 0.02);
    } else { L.setPosition(px, py, pz); L.setOrientation(fx, fy, fz, ux, uy, uz); } // Firefox
    for (const v of this.voices.values()) {
      this._wire(v);
      if (!v.wired) continue;
      const h = this.head(v.eid);
      if (!h) continue;
      v.panner.positionX.setTargetAtTime(h[0], t, 0.02);
      v.panner.positionY.setTargetAtTime(h[1], t, 0.02);
      v.panner.positionZ.setTargetAtTime(h[2], t, 0.02);
    }
  }

  _measure() {
    if (!this.ctx) return;
    const now = Date.now();
    const buf = this._buf || (this._buf = new Float32Array(1024));
    const rms = (an) => { an.getFloatTimeDomainData(buf); let s = 0; for (let i = 0; i < buf.length; i++) s += buf[i] * buf[i]; return Math.sqrt(s / buf.length); };
    for (const v of this.voices.values()) {
      const r = rms(v.analyser);
      v.hist.push([now, r, rms(v.out)]);
      while (v.hist.length && v.hist[0][0] < now - LEVEL_HOLD_MS) v.hist.shift();
      v.level = Math.max(...v.hist.map((x) => x[1]));
      v.heard = Math.max(...v.hist.map((x) => x[2]));
      if (r > 0.01 && this.firstAudioAt === null) this.firstAudioAt = now;
    }
    if (this.micAnalyser && this.connected) {
      const r = this._sending() ? rms(this.micAnalyser) : 0;
      if (r > SPEAKING_RMS) this.lastLoud = now;
      const speaking = now - (this.lastLoud || 0) < SPEAKING_HOLD_MS;
      if (speaking !== this.speaking) {
        this.speaking = speaking;
        this.client.send([Msg.VOICE, { muted: !this._sending(), speaking }]);
      }
    }
  }

  async _teardown() {
    this.lastAudible = null;
    const rooms = [...this.rooms.values()];
    this.rooms.clear();
    for (const feed of [...this.voices.keys()]) this._drop(feed);
    this.connected = false;
    await Promise.all(rooms.map((r) => r.close()));
    if (this.session) { const s = this.session; this.session = null; await s.destroy(); }
  }

  async inboundBytes() {
    let n = 0;
    for (const rc of this.rooms.values()) n += await rc.inboundBytes();
    return n;
  }

  /** For window.plaza.state().voice (docs/client.md). */
  state() {
    return {
      enabled: this.enabled, connected: this.connected, muted: !this._sending(), selfMuted: this.muted,
      pushToTalk: this.pushToTalk, speaking: this.speaking, moderatorMuted: this.modMuted, error: this.error,
      mode: this.mode,
      peers: [...this.voices.values()].map((v) => ({ id: v.eid, feed: v.feed, level: Math.round(v.level * 1e4) / 1e4,
        heard: Math.round(v.heard * 1e4) / 1e4, panned: !!v.wired,
        stage: !!(v.flags & STAGE), volume: this.volume.get(v.eid) ?? 1, personalMute: this.personalMute.has(v.eid) })),
      audible: (this.audible || []).map((p) => ({ id: p.eid, feed: p.feed, stage: !!(p.flags & STAGE), distance: p.distance })),
      people: [...this.peerState].map(([id, f]) => ({ id, connected: !!(f & VoiceFlag.CONNECTED), muted: !!(f & VoiceFlag.MUTED),
        speaking: !!(f & VoiceFlag.SPEAKING), moderatorMuted: !!(f & VoiceFlag.MOD_MUTED) })),
      firstAudioAt: this.firstAudioAt, enabledAt: this.enabledAt,
    };
  }
}

// ----- the panel: mic button, push-to-talk, people with volume and personal mute ------------------
/**
 * @param {Voice} voice
 * @param {HTMLElement} root the #voice element of index.html
 * @param {(eid: number) => string} nameOf
 */
export function mountVoicePanel(voice, root, nameOf) {
  const btn = root.querySelector('#voice-mic');
  const ptt = root.querySelector('#voice-ptt');
  const msg = root.querySelector('#voice-msg');
  const list = root.querySelector('#voice-people');
  btn.addEventListener('click', () => {
    if (!voice.enabled) voice.enable(); else voice.toggleMute();
  });
  ptt.addEventListener('change', () => voice.setPushToTalk(ptt.checked));
  addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.repeat) return;
    if (e.code === 'KeyM' && voice.enabled) voice.toggleMute();
    if (e.code === 'KeyV') voice.setTalkHeld(true);
  });
  addEventListener('keyup', (e) => { if (e.code === 'KeyV') voice.setTalkHeld(false); });
  let shownError = null;
  const render = () => {
    const s = voice.state();
    // A new reason why voice is off (a plain-http page, a blocked microphone): open the panel
    // so the message (and how to fix it) is seen without hunting for it.
    if (s.error && s.error !== shownError) root.open = true;
    shownError = s.error;
    btn.textContent = !s.enabled ? '🎤 Join voice' : s.moderatorMuted ? '🔇 Muted by a moderator' : s.muted ? '🔇 Unmute (M)' : '🎙 Mute (M)';
    btn.dataset.state = !s.enabled ? 'off' : s.muted || s.moderatorMuted ? 'muted' : 'live';
    root.dataset.speaking = s.speaking ? '1' : '0';
    msg.hidden = !s.error; msg.textContent = s.error || '';
    list.replaceChildren(...s.people.filter((p) => p.id !== voice.client.selfId).map((p) => {
      const li = document.createElement('li');
      li.dataset.speaking = p.speaking ? '1' : '0';
      const name = document.createElement('span');
      name.textContent = `${nameOf(p.id) || `#${p.id}`}${p.moderatorMuted ? ' (muted by a moderator)' : p.muted ? ' (muted)' : ''}`;
      const vol = document.createElement('input');
      vol.type = 'range'; vol.min = '0'; vol.max = '2'; vol.step = '0.1'; vol.value = String(voice.volume.get(p.id) ?? 1);
      vol.title = 'Volume (only for you)';
      vol.addEventListener('input', () => voice.setPeerVolume(p.id, Number(vol.value)));
      const mute = document.createElement('button');
      mute.type = 'button'; mute.className = 'secondary';
      mute.textContent = voice.personalMute.has(p.id) ? 'Unmute for me' : 'Mute for me';
      mute.addEventListener('click', () => voice.setPeerMuted(p.id, !voice.personalMute.has(p.id)));
      li.append(name, vol, mute);
      return li;
    }));
  };
  voice.onChange = render;
  render();
  return render;
}
