// The application: owns the renderer, the rig (camera + controllers, moved by locomotion),
// the current World, remote avatars and shared objects; glues net.js events to them; runs
// the frame loop (which allocates nothing) and sends our head and hands at the input rate.
import * as THREE from 'three';
import { Net } from './net.js';
import { Msg, EntityKind, Presence, ErrorName, NoticeKind, CloseCode, MAX_HAND_REACH_M, AVATAR_LOOKS, AVATAR_ACCESSORIES } from './protocol.js';
import { TickClock } from './interp.js';
import { World } from './scene.js';
import { Avatars } from './avatars.js';
import { SharedObjects } from './objects.js';
import { Grab } from './grab.js';
import { XRControls, xrAvailability } from './xr.js';
import { DesktopControls } from './desktop.js';
import { UI, LOOK_LABELS, ACCESSORY_LABELS } from './ui.js';
import { VRChatPanel } from './vrchat.js';
import { makeLabel } from './labels.js';
import { HostPanel } from './host.js';
import { LobbyBoard, WorldSuggestions } from './board.js';
import { AccountForm, signOut } from './account.js';
import { EventBoard } from './eventboard.js';
import { Voice, mountVoicePanel } from './voice.js';
import { People } from './people.js';
import { Bubbles } from './bubbles.js';
import { Hover } from './hover.js';
import { footprints, resolve as resolveCollisions, blocked } from './collide.js';
import { authHeaders } from './account.js';

const DEG = Math.PI / 180;
const _v = new THREE.Vector3(), _v2 = new THREE.Vector3(), _q = new THREE.Quaternion();
const _s = new THREE.Vector3(), _yq = new THREE.Quaternion(), _up = new THREE.Vector3(0, 1, 0);
const _hp = new THREE.Vector3();

export class App {
  constructor(params) {
    this.params = params;
    const lowPower = params.has('lowpower') || /OculusBrowser|Quest/.test(navigator.userAgent);
    this.shadows = !lowPower && !params.has('noshadows');
    const renderer = new THREE.WebGLRenderer({ antialias: !lowPower, preserveDrawingBuffer: params.has('emulate') || params.has('test') });
    renderer.setPixelRatio(Math.min(devicePixelRatio, lowPower ? 1 : 2));
    renderer.setSize(innerWidth, innerHeight);
    renderer.xr.enabled = true;
    renderer.xr.setReferenceSpaceType('local-floor');
    // Foveation cuts fragment cost on Quest at the edges of the lenses.
    renderer.xr.setFoveation(1);
    // The emulated headset (tests) would otherwise render two 2k eyes in software GL.
    if (params.has('emulate')) renderer.xr.setFramebufferScaleFactor(0.25);
    renderer.shadowMap.enabled = this.shadows;
    // Image-based light (an environment map from the sky) is cheap on any GPU but costs ~6x
    // per frame in software GL (SwiftShader, llvmpipe: VMs, headless tests), where it is off
    // unless asked for with ?env; ?noenv turns it off anywhere.
    const gl = renderer.getContext(), dbg = gl.getExtension('WEBGL_debug_renderer_info');
    this.gpu = dbg ? String(gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL)) : '';
    this.softwareGL = /SwiftShader|llvmpipe|softpipe|Software/i.test(this.gpu);
    this.envLight = params.has('env') || (!params.has('noenv') && !this.softwareGL);
    renderer.info.autoReset = true;
    document.getElementById('view').appendChild(renderer.domElement);
    this.renderer = renderer;
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(70, innerWidth / innerHeight, 0.05, 1200);
    this.camera.position.set(0, 1.6, 0);
    this.rig = new THREE.Group();
    this.rig.name = 'rig';
    this.rig.add(this.camera);
    this.scene.add(this.rig);
    addEventListener('resize', () => {
      this.camera.aspect = innerWidth / innerHeight;
      this.camera.updateProjectionMatrix();
      renderer.setSize(innerWidth, innerHeight);
    });

    this.world = null;
    this.selfId = 0;
    this.inputRate = 20;
    this.bounds = null;
    this.clock = new TickClock();
    this.avatars = new Avatars(this.scene);
    this.objects = new SharedObjects();
    this.grab = new Grab(this);
    this.names = new Map(); // entity -> name (roster, presence)
    this.portalArmed = false;
    this.travelling = false;
    this.pendingTeleport = null;
    this.joined = null; // {world, name, color}
    this.frames = 0;
    this.maxFps = Number(params.get('fps')) || 0;
    this.stats = { calls: 0, triangles: 0, fps: 0 };

    // Our own pose, world coordinates, recomputed every frame.
    this.head = { p: new THREE.Vector3(), q: new THREE.Quaternion() };
    this.left = { p: new THREE.Vector3(), q: new THREE.Quaternion() };
    this.right = { p: new THREE.Vector3(), q: new THREE.Quaternion() };
    this.poseArrays = [new Array(7).fill(0), new Array(7).fill(0), new Array(7).fill(0)];
    this.poseMsg = [Msg.POSE, 0, ...this.poseArrays];
    this.poseAccum = 0;
    this.parts = [this.head, this.left, this.right];

    this.ui = new UI({
      onJoin: (world, name, color) => this.join(world, name, color),
      onAvatar: () => this.rejoin(),
      onLeave: () => this.leave(),
      onChat: (text) => this.net.send([Msg.CHAT, text.slice(0, 500)]),
      onEnterVR: () => this.enterVR(),
      onSmoothMove: (on) => { this.xr.smoothMove = on; },
      onSmoothTurn: (on) => { this.xr.smoothTurn = on; },
      onLobby: () => this.board.refresh(),
    });
    this.net = new Net(this._netHandlers());
    // Voice (voice.js): the mic button, M / V keys and the people list live in #voice.
    this.voice = new Voice({ client: this.net.client, head: (eid) => this.avatars.headPosition(eid),
      onSpeaking: (eid, on) => this.avatars.setSpeaking(eid, on) });
    mountVoicePanel(this.voice, document.getElementById('voice'), (eid) => this.names.get(eid));
    this.earFwd = new THREE.Vector3(); this.earUp = new THREE.Vector3();
    this.host = new HostPanel((m) => this.net.send(m), (t) => this.ui.toast(t));
    this.suggest = new WorldSuggestions((world) => this.travel(world));
    this.board = new LobbyBoard((world) => this.ui._join(world), () => this.net.welcome?.session || null);
    this.account = new AccountForm((user) => {
      if (user) this.ui.setName(user);
      this.board.refresh();
    });
    this.xr = new XRControls(this);
    this.desktop = new DesktopControls(this);
    // The wrist menu: chat with a virtual keyboard, people, mic mute (voice.js), settings
    // (through the same UI setters as the HUD's checkboxes and avatar picker), leave.
    this.vrChat = new VRChatPanel((p) => this.net.send([Msg.CHAT, p.slice(0, 500)]), {
      onLeave: () => this.leave(),
      onMute: () => { if (this.voice?.enabled) this.voice.toggleMute(); else this.voice?.enable?.(); },
      muted: () => (this.voice?.enabled ? !!this.voice.muted : null),
      people: () => this.people.rows().map((r) => `${r.name}${r.self ? ' (you)' : ''}${r.dist !== null ? ` · ${Math.round(r.dist)} m` : ''}`),
      settings: () => ({ turn: this.xr.smoothTurn ? 'smooth' : 'snap', move: this.xr.smoothMove ? 'smooth' : 'teleport', ...this.ui.avatar() }),
      options: { look: AVATAR_LOOKS.map((v) => [v, LOOK_LABELS[v] || v]), accessory: AVATAR_ACCESSORIES.map((v) => [v, ACCESSORY_LABELS[v] || v]) },
      set: (kind, value) => {
        if (kind === 'turn' || kind === 'move') this.ui.setComfort(kind, value === 'smooth');
        else this.ui.setAvatar(kind, value);
      },
    });
    this.people = new People(this);
    this.bubbles = new Bubbles(this.scene, this.avatars);
    this.hover = new Hover(this);
    this.avatars.isHidden = (id, name) => this.people.blocked.has(name);
    this._socialControls();

    xrAvailability().then((msg) => this.ui.xrMessage(msg));
    this._last = performance.now();
    this._fpsT = this._last; this._fpsN = 0;
    renderer.setAnimationLoop((t, frame) => this._frame(t, frame));
  }

  // ---------------------------------------------------------------- joining

  join(world, name, color, invite = null) {
    this.joined = { world, name, color };
    history.replaceState(null, '', `/w/${encodeURIComponent(world)}${location.search}`);
    this.ui.status('connecting', 'Connecting…');
    this.ui.hideLobby();
    this.invite = invite;
    this.net.join(name, world, color, invite, this.ui.avatar());
  }

  /** A new look while in a world: HELLO again into the same instance (others see us leave
   * and come back with it). Nothing to do in the lobby: the next join sends it. */
  rejoin() {
    if (!this.joined || document.body.dataset.mode !== 'world') return;
    const { world, name, color } = this.joined;
    this.restyled = true;
    this.net.join(name, world, color, this.invite, this.ui.avatar(), this.net.welcome?.instance);
  }

  /** Reactions (toolbar, keys 1-6), the make/generate panel, the invite-link button. */
  _socialControls() {
    const $ = (id) => document.getElementById(id);
    $('reactions').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-react]');
      if (b) this.react(Number(b.dataset.react));
    });
    addEventListener('keydown', (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.ctrlKey || e.metaKey || e.altKey) return;
      const m = /^Digit([1-6])$/.exec(e.code);
      if (m && document.body.dataset.mode === 'world') this.react(Number(m[1]));
    });
    const make = (prompt) => {
      const p = String(prompt || '').trim();
      if (!p) return;
      this.net.send([Msg.CHAT, `/generate ${p}`.slice(0, 500)]);
      this._makePending = true;
      this._makeLog(`asked for “${p}”…`);
    };
    $('make-panel').addEventListener('click', (e) => { const b = e.target.closest('button[data-make]'); if (b) make(b.dataset.make); });
    $('make-form').addEventListener('submit', (e) => { e.preventDefault(); make($('make-prompt').value); $('make-prompt').value = ''; });
    $('invite-link').addEventListener('click', () => this.inviteLink());
  }

  react(kind) {
    if (!this.net.connected) return;
    this.net.send([Msg.REACT, kind]);
  }

  _makeLog(text, notes = '') {
    const log = document.getElementById('make-log');
    const li = document.createElement('li');
    li.textContent = text;
    if (notes) { const n = document.createElement('div'); n.className = 'notes'; n.textContent = notes; li.append(n); }
    log.append(li);
    while (log.children.length > 6) log.firstChild.remove();
  }

  /** A moderator's or owner's invite link for this world (POST /api/worlds/<w>/invites). */
  async inviteLink() {
    const out = document.getElementById('invite-out');
    try {
      const world = this.world.info.id;
      const r = await fetch(`/api/worlds/${encodeURIComponent(world)}/invites`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', ...authHeaders(this.net.welcome?.session) }, body: JSON.stringify({ hours: 24 }),
      });
      const body = await r.json();
      if (!r.ok) throw new Error(body.message || r.status);
      const link = `${location.origin}/w/${encodeURIComponent(world)}?invite=${encodeURIComponent(body.invite)}`;
      out.textContent = link;
      try { await navigator.clipboard.writeText(link); this.ui.toast('Invite link copied (valid 24 h).'); } catch (e) { /* shown in the panel */ }
    } catch (e) {
      out.textContent = `Could not make an invite: ${e.message || e}`;
    }
  }

  leave() {
    this.net.leave();
    this.grab.drop();
    this._clearWorld();
    this.joined = null;
    this.host.clear();
    this.suggest.clear();
    this.xr.exit();
    history.replaceState(null, '', '/');
    this.ui.showLobby();
  }

  _clearWorld() {
    clearInterval(this.boardTimer);
    this.eventBoard = null;
    if (this.world) this.world.dispose(this.scene);
    this.world = null;
    this.avatars.clear();
    this.objects.reset(null, {});
  }

  _netHandlers() {
    return {
      status: (state, text) => { this.ui.status(state, text); this.vrChat.setStatus(state, text); this._statusBadge(state, text); },
      fatal: (code, reason) => {
        // Nothing will reconnect: back to the lobby (never a black world) with the reason in words.
        const text = fatalText(code, reason, this.joined);
        this.leave();
        this.ui.toast(text, null, 'error');
      },
      welcome: (w) => this._welcome(w),
      enter: (ent, t) => {
        if (ent.kind === EntityKind.AVATAR) {
          this.names.set(ent.id, ent.info.name);
          this.avatars.enter(ent.id, ent.info.name, ent.info.color, ent.values, t, ent.info.avatar);
        } else this.objects.enter(ent, t);
      },
      leave: (id) => { this.avatars.leave(id); this.objects.leave(id); },
      state: (t) => {
        this.clock.observe(t, performance.now());
        for (const ent of this.net.entities.values()) {
          if (ent.kind === EntityKind.AVATAR) this.avatars.push(ent.id, ent.values, t);
          else this.objects.push(ent.id, ent.values, t);
        }
      },
      grabResult: (eid, granted, code) => this.grab.grabResult(eid, granted, code),
      chat: (from, name, text) => {
        if (this.people.hides(name)) return; // personally muted or blocked: only for us
        this.people.noteChat(name, text);
        this.ui.chat(name, text);
        this.vrChat.add(`${name}: ${text}`);
        // from 0: said in another instance of a live event (no avatar here to hang it on).
        if (from && from !== this.selfId) this.bubbles.say(from, text);
      },
      reaction: (from, kind) => { if (!this.people.isBlockedId(from)) this.bubbles.react(from, kind); },
      presence: (ev, id, name) => {
        if (ev === Presence.JOINED) this.names.set(id, name);
        // Thirty arrivals are one line that grows, not thirty lines (also on the VR panel).
        const text = this.ui.presence(ev === Presence.JOINED, name);
        this.vrChat.presence?.(text);
        this.people.render();
      },
      error: (code, text, ref) => {
        // Server errors keep the connection; TOO_FAST etc. are expected during jumps.
        console.warn(`plaza: server error ${ErrorName[code] || code} (ref ${ref}): ${text}`);
        if (code === 10) this.ui.toast(text);
        // A muted person's (or muted room's) chat is refused: say so, else it silently vanishes.
        if (ErrorName[code] === 'FORBIDDEN' && ref === Msg.CHAT && this._makePending) {
          this._makePending = false;
          this._makeLog(`Not made: ${text}`);
        } else if (ErrorName[code] === 'FORBIDDEN' && ref === Msg.CHAT) {
          this.ui.toast(`Not sent: ${text}`, null, 'error');
          this.ui.chat('', `Your message was not sent: ${text}`, 'notice');
        }
        if (ErrorName[code] === 'RATE_LIMITED' && ref === Msg.CHAT) this.ui.toast(`Slow down: ${text}`, null, 'error');
        if (ref === Msg.TRAVEL) this.travelling = false;
        if (ref === Msg.GRAB || ref === Msg.OBJECT_MOVE || ref === Msg.RELEASE) {
          if (ErrorName[code] === 'NOT_HOLDER' || ErrorName[code] === 'UNKNOWN_OBJECT') this.grab.drop();
        }
      },
      teleported: (target) => this._teleported(target),
      worldUpdate: (info) => this._rebuild(info),
      suggestions: (items) => this.suggest.show(items, this.world ? this.world.info.id : null),
      tokenRejected: () => {
        // Our account token expired or was revoked: we are a guest again.
        signOut();
        this.account.render();
        this.ui.toast('Your sign-in expired; joined as a guest.');
      },
      notice: (kind, text, data) => {
        if (kind === NoticeKind.PINNED) {
          this.host.pinned(text || null);
          this.ui.chat('', text ? `Pinned: ${text}` : 'Pinned message removed.', 'notice');
          this.vrChat.add(text ? `Pinned: ${text}` : '· pin removed');
          return;
        }
        if (kind === NoticeKind.EVENT) this.host.eventNotice(data);
        // Generation jobs: the make panel shows progress and the generator's own notes
        // ("closest I can do…") to the person who asked.
        if (data && typeof data.job === 'string') this._makePending = false;
        if (data && typeof data.job === 'string') this._makeLog(text, typeof data.message === 'string' ? data.message : '');
        const elsewhere = kind === NoticeKind.EVENT && typeof data.world === 'string' && this.world && data.world !== this.world.info.id;
        // An event you RSVP'd to is starting elsewhere: one click takes you there.
        if (elsewhere) this.ui.toast(text, { label: 'Join', run: () => this.travel(data.world) });
        else if (kind !== NoticeKind.WORLD_RELOADED) this.ui.toast(text);
        this.ui.chat('', text, 'notice');
        this.vrChat.add(`· ${text}`);
      },
    };
  }

  _welcome(w) {
    const sameWorld = this.world && this.world.info.id === w.world && !this.travelling;
    // Another room of the same world: a cluster merged ours into it, or ours is gone.
    const merged = sameWorld && this.instance && this.instance !== w.instance;
    this.instance = w.instance;
    this.selfId = w.id;
    this.inputRate = w.input_rate || w.tick_rate || 20;
    this.bounds = w.bounds;
    this.clock.reset();
    this.grab.drop();
    this.avatars.clear();
    this.names.clear();
    for (const [id, name] of w.roster || []) this.names.set(id, name);
    if (sameWorld) {
      // Reconnected: keep the scene and our place in it; ask the server to put us back here.
      this.objects.reset(this.world, w.objects);
      this.headPosition(_v);
      this.net.send([Msg.TELEPORT, [_v.x, this.world.groundY, _v.z]]);
      const said = this.restyled ? 'Your new look is on: others see it now.' : merged ? 'Reconnected, in another room of this world.' : 'Reconnected.';
      this.ui.chat('', said, 'notice');
    } else {
      this._rebuild(w.world_info);
      this.objects.reset(this.world, w.objects);
      this._placeAtSpawn(w.spawn, w.world_info);
      this.ui.clearChat();
      this.ui.chat('', `You are in ${w.world_info.name}.`, 'notice');
    }
    this.travelling = false;
    this.restyled = false;
    this.portalArmed = false;
    if (this.joined) this.joined.world = w.world;
    // An invite is spent on entry: keep it out of the address bar (and screenshots of it).
    const qs = location.search.replace(/([?&])invite=[^&]*(&|$)/, (m, a, b) => (b ? a : '')).replace(/[?&]$/, '');
    history.replaceState(null, '', `/w/${encodeURIComponent(w.world)}${qs}`);
    this.ui.showWorld(w.world_info);
    this.host.setWelcome(w);
    this.people.setWelcome(w);
    this.bubbles.clear();
    document.querySelector('#people .invite-row').hidden = !(w.permissions || []).includes('invite');
    // Late joiners: a host may have muted chat before we came in.
    const muted = (w.events || []).find((ev) => ev.status === 'live' && (ev.live?.chat_muted || ev.live_state?.chat_muted));
    if (muted) this.ui.chat('', `Chat is muted by the host of "${muted.title}": only moderators can talk.`, 'notice');
  }

  /** TRAVEL to another world (suggestions, event notices). */
  travel(world) {
    if (!world || this.travelling || !this.net.connected || (this.world && this.world.info.id === world)) return;
    this.travelling = true;
    this.grab.release();
    this.ui.chat('', `Travelling to ${world}…`, 'notice');
    this.net.send([Msg.TRAVEL, world]);
  }

  _rebuild(info) {
    const objectsMap = this.world ? Object.fromEntries(this.objects.oidToEid) : {};
    if (this.world) this.world.dispose(this.scene);
    this.loadT0 = performance.now();
    this.timing = { world: info.id, firstFrameMs: null, completeMs: null };
    this.world = new World(info, { shadows: this.shadows, onProgress: (a, b) => this.ui.loading(a, b) });
    this.world.apply(this.scene, this.envLight ? this.renderer : null);
    this.colliders = footprints(info.objects, this.world.groundY);
    this._eventBoard(info);
    this.objects.reset(this.world, objectsMap);
    // Re-enter the objects we know so they follow the server again.
    for (const ent of this.net.entities.values()) if (ent.kind === EntityKind.OBJECT) this.objects.enter(ent, 0);
  }

  /** A world with an "event-board" object shows GET /api/events on it, refreshed each minute. */
  _eventBoard(info) {
    clearInterval(this.boardTimer);
    this.eventBoard?.dispose();
    this.eventBoard = null;
    const spec = (info.objects || []).find((o) => o.id === 'event-board');
    if (!spec) return;
    this.eventBoard = new EventBoard(spec);
    this.world.root.add(this.eventBoard.mesh);
    this.eventBoard.refresh();
    this.boardTimer = setInterval(() => this.eventBoard?.refresh(), 60000);
  }

  /** Progressive loading: build a slice of the scenery, enter entities that were waiting. */
  _buildStep() {
    const w = this.world;
    if (w.complete) return;
    w.step(this.xrPresenting() ? 3 : 6);
    for (const oid of w.built) {
      const ent = this.net.entities.get(this.objects.eidFor(oid));
      if (ent) this.objects.enter(ent, 0);
    }
    w.built.length = 0;
    if (w.complete && this.timing) this.timing.completeMs = Math.round(performance.now() - this.loadT0);
  }

  _placeAtSpawn(spawn, info) {
    const [x, y, z, yaw] = spawn;
    // Scatter within the spawn's radius so arrivals do not stand inside each other.
    const sp = (info.spawns || []).find((s) => Math.abs(s.position[0] - x) < 1e-6 && Math.abs(s.position[2] - z) < 1e-6);
    const r = sp ? Math.min(sp.radius, 1.5) : 0;
    const a = Math.random() * Math.PI * 2, d = Math.sqrt(Math.random()) * r;
    this.rig.rotation.set(0, yaw * DEG, 0);
    // In room-scale VR the head can be metres from the rig origin: put the head, not the
    // rig origin, on the spawn point (else it may land outside the world's bounds).
    _v.copy(this.camera.position).applyAxisAngle(_up, yaw * DEG);
    this.rig.position.set(x + Math.cos(a) * d - _v.x, y, z + Math.sin(a) * d - _v.z);
    this.desktop.pitch = 0;
    this.rig.updateMatrixWorld(true);
  }

  // ---------------------------------------------------------------- locomotion

  headPosition(out) {
    if (this.xrPresenting()) {
      const cams = this.renderer.xr.getCamera().cameras;
      out.set(0, 0, 0);
      for (let i = 0; i < cams.length; i++) out.add(_v2.setFromMatrixPosition(cams[i].matrixWorld));
      return cams.length ? out.divideScalar(cams.length) : out;
    }
    this.camera.updateMatrixWorld(true);
    return out.setFromMatrixPosition(this.camera.matrixWorld);
  }

  insideBounds(p) {
    const b = this.bounds;
    if (!b) return true;
    return p.x > b[0][0] && p.x < b[1][0] && p.y >= b[0][1] && p.y < b[1][1] && p.z > b[0][2] && p.z < b[1][2];
  }

  /** Walk the rig by `delta` (world metres), staying inside the world's bounds. */
  moveRig(delta) {
    const b = this.bounds, r = this.rig.position;
    // The body is where the head is (room-scale VR: metres from the rig origin).
    this.headPosition(_hp);
    const ox = _hp.x - r.x, oz = _hp.z - r.z;
    r.add(delta);
    if (this.colliders && this.colliders.length) {
      const [x, z, hit] = resolveCollisions(this.colliders, r.x + ox, r.z + oz);
      r.x = x - ox; r.z = z - oz;
      if (hit) this.lastBump = hit;
    }
    if (b) {
      r.x = Math.min(Math.max(r.x, b[0][0] + 0.3), b[1][0] - 0.3);
      r.z = Math.min(Math.max(r.z, b[0][2] + 0.3), b[1][2] - 0.3);
    }
  }

  /** Is the floor point (x, z) inside world geometry? */
  blockedAt(x, z) { return !!this.colliders && blocked(this.colliders, x, z); }

  /** Move floor point `p` (Vector3) out of world geometry (VR teleport targets). */
  freeSpot(p) {
    if (!this.colliders || !this.colliders.length) return p;
    const [x, z] = resolveCollisions(this.colliders, p.x, p.z);
    p.x = x; p.z = z;
    return p;
  }

  requestTeleport(target) {
    this.pendingTeleport = true;
    this.net.send([Msg.TELEPORT, [target.x, target.y, target.z]]);
  }

  _teleported([x, y, z]) {
    // Move the rig so that the head (not the rig origin) lands on the target.
    this.headPosition(_v);
    this.rig.position.x += x - _v.x;
    this.rig.position.z += z - _v.z;
    this.rig.position.y = y;
    this.rig.updateMatrixWorld(true);
    this.pendingTeleport = null;
  }

  xrPresenting() { return this.renderer.xr.isPresenting; }

  async enterVR() {
    try {
      await this.xr.enter();
    } catch (e) {
      console.warn('plaza: could not start VR', e);
      this.ui.toast(`Could not start VR: ${e.message || e}`);
    }
  }

  /** Head-locked notice while not connected, so it is seen in VR too (the DOM bar is hidden). */
  _statusBadge(state, text) {
    if (this.badge) {
      this.camera.remove(this.badge);
      this.badge.geometry.dispose();
      this.badge.material.map.dispose();
      this.badge.material.dispose();
      this.badge = null;
    }
    if (state === 'connected' || state === 'offline' || !this.world) return;
    this.badge = makeLabel(text, { height: 0.05, color: '#ffd980', background: 'rgba(20,16,8,0.8)' });
    this.badge.position.set(0, -0.18, -0.8);
    this.badge.material.depthTest = false;
    this.badge.renderOrder = 20;
    this.camera.add(this.badge);
  }

  onXRStart() {
    document.body.dataset.xr = 'on';
    this.desktop.pitch = 0;
    this.camera.rotation.set(0, 0, 0);
  }

  onXREnd() {
    document.body.dataset.xr = 'off';
    this.vrChat.mesh.visible = false;
    this.camera.position.set(0, 1.6, 0);
    this.camera.quaternion.identity();
    // Keep the facing direction, drop any roll/pitch the session left on the rig.
    this.rig.rotation.set(0, this.rig.rotation.y, 0);
  }

  // ---------------------------------------------------------------- frame loop

  _frame(t, frame) {
    const now = performance.now();
    // Optional ?fps=N cap outside VR (battery on laptops, CPU in headless tests).
    if (this.maxFps && !this.xrPresenting() && now - this._last < 1000 / this.maxFps - 2) return;
    const dt = Math.min((now - this._last) / 1000, 0.1);
    // Walking uses the real frame time (a slow GPU must not walk slower); only a stall (a
    // background tab) is capped, so one frame never jumps further than the server allows.
    const moveDt = Math.min((now - this._last) / 1000, 1.0);
    this._last = now;
    const xr = this.xrPresenting();
    if (xr) this.xr.update(moveDt);
    else if (this.world) this.desktop.update(moveDt);
    this.rig.updateMatrixWorld(true);
    if (xr) this.renderer.xr.updateCamera(this.camera);
    this._selfPose(xr);
    if (this.world) {
      this.grab.update(dt, now);
      const rt = this.clock.renderTime(now);
      this.avatars.update(rt, dt);
      this.bubbles.update(dt, this.camera, this.selfId, this.head.p);
      this.hover.update(xr);
      this.objects.update(rt);
      this._portals();
      this._sendPose(dt);
      this._vrChat(xr);
      this.voice.frame({ p: this.head.p, fwd: this.earFwd.set(0, 0, -1).applyQuaternion(this.head.q),
        up: this.earUp.set(0, 1, 0).applyQuaternion(this.head.q) });
    }
    if (this.world) this._buildStep();
    this.renderer.render(this.scene, this.camera);
    if (this.timing && this.timing.firstFrameMs === null && this.world) this.timing.firstFrameMs = Math.round(performance.now() - this.loadT0);
    this.stats.calls = this.renderer.info.render.calls;
    this.stats.triangles = this.renderer.info.render.triangles;
    this.frames++;
    this._fpsN++;
    if (now - this._fpsT > 1000) { this.stats.fps = (this._fpsN * 1000) / (now - this._fpsT); this._fpsN = 0; this._fpsT = now; }
  }

  _selfPose(xr) {
    const h = this.head;
    this.headPosition(h.p);
    if (xr) {
      const cams = this.renderer.xr.getCamera().cameras;
      if (cams.length) cams[0].matrixWorld.decompose(_v2, h.q, _s);
      this._xrHand('left', -1, this.left);
      this._xrHand('right', 1, this.right);
    } else {
      this.camera.matrixWorld.decompose(_v2, h.q, _s);
      this._hangingHand(-1, this.left);
      if (this.grab.held && this.grab.held.hand === this.desktop.holdPoint) {
        this.desktop.holdPoint.matrixWorld.decompose(this.right.p, this.right.q, _s);
      } else this._hangingHand(1, this.right);
    }
  }

  _xrHand(side, sign, out) {
    const c = this.xr.controller(side);
    if (c && c.userData.source) c.matrixWorld.decompose(out.p, out.q, _s);
    else this._hangingHand(sign, out);
  }

  /** A hand where it would hang: beside and in front of the body, turned with the body's yaw. */
  _hangingHand(sign, out) {
    const yaw = this.rig.rotation.y;
    _yq.setFromAxisAngle(_up, yaw);
    out.p.set(sign * 0.22, -0.45, -0.25).applyQuaternion(_yq).add(this.head.p);
    out.q.copy(_yq);
  }

  _sendPose(dt) {
    this.poseAccum += dt;
    // Not while a TRAVEL is answered: a pose from the old world would land in the new instance
    // as a jump of metres (TOO_FAST) before WELCOME moves us to the spawn.
    if (this.poseAccum < 1 / this.inputRate || !this.net.connected || this.travelling) return;
    this.poseAccum = 0;
    const parts = this.parts;
    const head = this.head.p;
    for (let i = 0; i < 3; i++) {
      const a = this.poseArrays[i], q = parts[i].q;
      let p = parts[i].p;
      // The server rejects the whole pose when a hand is over 2 m from the head (a tracking
      // glitch, a controller left on the table): send such a hand pulled in to 1.9 m.
      if (i > 0 && p.distanceTo(head) > MAX_HAND_REACH_M - 0.1) {
        p = _v.subVectors(p, head).setLength(MAX_HAND_REACH_M - 0.1).add(head);
      }
      a[0] = p.x; a[1] = p.y; a[2] = p.z; a[3] = q.x; a[4] = q.y; a[5] = q.z; a[6] = q.w;
    }
    this.poseMsg[1] = Math.floor(performance.now()) >>> 0;
    this.net.send(this.poseMsg);
  }

  _portals() {
    if (this.travelling || !this.net.connected) return;
    const hp = this.head.p, ps = this.world.portals;
    let near = false;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i];
      const dx = hp.x - p.center.x, dz = hp.z - p.center.z;
      const d = Math.sqrt(dx * dx + dz * dz);
      const inside = d < p.radius * 0.6 && Math.abs(hp.y - p.center.y) < p.radius + 1;
      if (d < p.radius + 0.5) near = true;
      // Only after we have been away from every portal (no bouncing straight back on arrival).
      if (inside && this.portalArmed) {
        this.travelling = true;
        this.grab.release();
        this.ui.chat('', `Travelling to ${p.label}…`, 'notice');
        this.net.send(p.arrival ? [Msg.TRAVEL, p.target, p.arrival] : [Msg.TRAVEL, p.target]);
        return;
      }
    }
    if (!near) this.portalArmed = true;
  }

  _vrChat(xr) {
    const panel = this.vrChat;
    if (!xr) { panel.mesh.visible = false; return; }
    const left = this.xr.controller('left');
    if (left) { panel.attach(left); panel.mesh.visible = true; }
  }

  // ---------------------------------------------------------------- introspection

  /** Where world point [x, y, z] is on screen in CSS pixels, or null when behind/off screen. */
  screen(p) {
    const v = new THREE.Vector3().fromArray(p);
    this.camera.updateWorldMatrix(true, false); // parents too: the rig may have turned since the last frame
    v.project(this.camera);
    if (v.z > 1 || Math.abs(v.x) > 1 || Math.abs(v.y) > 1) return null;
    const el = this.renderer.domElement;
    return [(v.x + 1) / 2 * el.clientWidth, (1 - v.y) / 2 * el.clientHeight];
  }

  /** Plain JSON for window.plaza.state() (documented in docs/client.md). */
  state() {
    const pose = (x) => ({ p: x.p.toArray().map(r4), q: x.q.toArray().map(r4) });
    return {
      connected: this.net.connected,
      status: this.net.statusText,
      world: this.world ? this.world.info.id : null,
      instance: this.net.welcome ? this.net.welcome.instance : null,
      selfId: this.selfId || null,
      presenting: this.xrPresenting(),
      self: this.world ? { head: pose(this.head), left: pose(this.left), right: pose(this.right) } : null,
      rig: { p: this.rig.position.toArray().map(r4), yaw: r4(this.rig.rotation.y) },
      avatars: this.avatars.snapshot(),
      avatar: { ...this.ui.avatar(), ready: this.avatars.ready }, // my look as sent in HELLO; ready: every look's GLB loaded
      objects: this.objects.snapshot(this.selfId),
      held: this.grab.held ? this.grab.held.eid : null,
      hover: this.hover.oid,
      bumped: this.lastBump || null, // the last object walking ran into (collisions)
      frames: this.frames,
      render: { ...this.stats },
      // Time from WELCOME (world build start) to its first drawn frame and to all scenery built.
      loading: this.timing ? { ...this.timing } : null,
      voice: this.voice.state(),
      people: this.people.rows().map(({ id, name, self, dist, muted, blocked }) => ({ id, name, self, dist: dist === null ? null : r4(dist), muted, blocked })),
      ...this.bubbles.snapshot(),
    };
  }
}

function r4(x) { return Math.round(x * 10000) / 10000; }

/** Why a connection ended for good, in words a newcomer can act on. */
export function fatalText(code, reason, joined) {
  const r = reason ? ` (${reason})` : '';
  switch (code) {
    case CloseCode.UNKNOWN_WORLD: return `There is no world "${joined?.world ?? ''}". Pick one from the list.`;
    case CloseCode.UNAUTHORIZED: return `The name "${joined?.name ?? ''}" belongs to an account: sign in as it, or pick another display name.`;
    case CloseCode.REFUSED: return `You cannot enter this world${r}. It may be private (ask for an invite link), locked, or you were banned.`;
    case CloseCode.KICKED: return `A moderator removed you from this world${r}.`;
    case CloseCode.BAD_HELLO: return `The server refused to let you in${r}.`;
    case CloseCode.UNSUPPORTED_VERSION: return 'This page is out of date: reload it.';
    default: return `Disconnected${r || ` (${code})`}.`;
  }
}
