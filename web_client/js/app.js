// The application: owns the renderer, the rig (camera + controllers, moved by locomotion),
// the current World, remote avatars and shared objects; glues net.js events to them; runs
// the frame loop (which allocates nothing) and sends our head and hands at the input rate.
import * as THREE from 'three';
import { Net } from './net.js';
import { Msg, EntityKind, Presence, ErrorName, NoticeKind, CloseCode, MAX_HAND_REACH_M } from './protocol.js';
import { TickClock } from './interp.js';
import { World } from './scene.js';
import { Avatars } from './avatars.js';
import { SharedObjects } from './objects.js';
import { Grab } from './grab.js';
import { XRControls, xrAvailability } from './xr.js';
import { DesktopControls } from './desktop.js';
import { UI } from './ui.js';
import { VRChatPanel } from './vrchat.js';
import { makeLabel } from './labels.js';
import { HostPanel } from './host.js';
import { LobbyBoard, WorldSuggestions } from './board.js';
import { AccountForm, signOut } from './account.js';

const DEG = Math.PI / 180;
const _v = new THREE.Vector3(), _v2 = new THREE.Vector3(), _q = new THREE.Quaternion();
const _s = new THREE.Vector3(), _yq = new THREE.Quaternion(), _up = new THREE.Vector3(0, 1, 0);

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
      onLeave: () => this.leave(),
      onChat: (text) => this.net.send([Msg.CHAT, text.slice(0, 500)]),
      onEnterVR: () => this.enterVR(),
      onSmoothMove: (on) => { this.xr.smoothMove = on; },
      onLobby: () => this.board.refresh(),
    });
    this.net = new Net(this._netHandlers());
    this.host = new HostPanel((m) => this.net.send(m), (t) => this.ui.toast(t));
    this.suggest = new WorldSuggestions((world) => this.travel(world));
    this.board = new LobbyBoard((world) => this.ui._join(world), () => this.net.welcome?.session || null);
    this.account = new AccountForm((user) => {
      if (user) this.ui.setName(user);
      this.board.refresh();
    });
    this.xr = new XRControls(this);
    this.desktop = new DesktopControls(this);
    this.vrChat = new VRChatPanel((p) => this.net.send([Msg.CHAT, p]));

    xrAvailability().then((msg) => this.ui.xrMessage(msg));
    this._last = performance.now();
    this._fpsT = this._last; this._fpsN = 0;
    renderer.setAnimationLoop((t, frame) => this._frame(t, frame));
  }

  // ---------------------------------------------------------------- joining

  join(world, name, color) {
    this.joined = { world, name, color };
    history.replaceState(null, '', `/w/${encodeURIComponent(world)}${location.search}`);
    this.ui.status('connecting', 'Connecting…');
    document.body.dataset.mode = 'world';
    this.net.join(name, world, color);
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
    if (this.world) this.world.dispose(this.scene);
    this.world = null;
    this.avatars.clear();
    this.objects.reset(null, {});
  }

  _netHandlers() {
    return {
      status: (state, text) => { this.ui.status(state, text); this.vrChat.setStatus(state, text); this._statusBadge(state, text); },
      fatal: (code, reason) => {
        this.ui.toast(code === CloseCode.UNKNOWN_WORLD ? 'That world does not exist.' : `Disconnected: ${reason || code}`);
        if (code === CloseCode.UNKNOWN_WORLD) this.leave();
      },
      welcome: (w) => this._welcome(w),
      enter: (ent, t) => {
        if (ent.kind === EntityKind.AVATAR) {
          this.names.set(ent.id, ent.info.name);
          this.avatars.enter(ent.id, ent.info.name, ent.info.color, ent.values, t);
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
        this.ui.chat(name, text);
        this.vrChat.add(`${name}: ${text}`);
      },
      presence: (ev, id, name) => {
        const text = `${name} ${ev === Presence.JOINED ? 'joined' : 'left'}`;
        if (ev === Presence.JOINED) this.names.set(id, name);
        this.ui.chat('', text, 'notice');
        this.vrChat.add(`· ${text}`);
      },
      error: (code, text, ref) => {
        // Server errors keep the connection; TOO_FAST etc. are expected during jumps.
        console.warn(`plaza: server error ${ErrorName[code] || code} (ref ${ref}): ${text}`);
        if (code === 10) this.ui.toast(text);
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
      this.ui.chat('', 'Reconnected.', 'notice');
    } else {
      this._rebuild(w.world_info);
      this.objects.reset(this.world, w.objects);
      this._placeAtSpawn(w.spawn, w.world_info);
      this.ui.clearChat();
      this.ui.chat('', `You are in ${w.world_info.name}.`, 'notice');
    }
    this.travelling = false;
    this.portalArmed = false;
    if (this.joined) this.joined.world = w.world;
    history.replaceState(null, '', `/w/${encodeURIComponent(w.world)}${location.search}`);
    this.ui.showWorld(w.world_info);
    this.host.setWelcome(w);
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
    this.world = new World(info, { shadows: this.shadows, onProgress: (a, b) => this.ui.loading(a, b) });
    this.world.apply(this.scene);
    this.objects.reset(this.world, objectsMap);
    // Re-enter the objects we know so they follow the server again.
    for (const ent of this.net.entities.values()) if (ent.kind === EntityKind.OBJECT) this.objects.enter(ent, 0);
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
    r.add(delta);
    if (b) {
      r.x = Math.min(Math.max(r.x, b[0][0] + 0.3), b[1][0] - 0.3);
      r.z = Math.min(Math.max(r.z, b[0][2] + 0.3), b[1][2] - 0.3);
    }
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
    this._last = now;
    const xr = this.xrPresenting();
    if (xr) this.xr.update(dt);
    else if (this.world) this.desktop.update(dt);
    this.rig.updateMatrixWorld(true);
    if (xr) this.renderer.xr.updateCamera(this.camera);
    this._selfPose(xr);
    if (this.world) {
      this.grab.update(dt, now);
      const rt = this.clock.renderTime(now);
      this.avatars.update(rt, dt);
      this.objects.update(rt);
      this._portals();
      this._sendPose(dt);
      this._vrChat(xr);
    }
    this.renderer.render(this.scene, this.camera);
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
    if (this.poseAccum < 1 / this.inputRate || !this.net.connected) return;
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
    this.camera.updateMatrixWorld(true);
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
      objects: this.objects.snapshot(this.selfId),
      held: this.grab.held ? this.grab.held.eid : null,
      frames: this.frames,
      render: { ...this.stats },
    };
  }
}

function r4(x) { return Math.round(x * 10000) / 10000; }
