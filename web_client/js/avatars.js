// Remote avatars: head (+ visor showing where they look), torso, two hands, a name tag, a
// colour. All avatars share five InstancedMeshes (head, visor, torso, hands, name tags), so
// 50 avatars cost 5 draw calls; name tags are cells of one canvas atlas drawn by a
// billboard shader. update() runs every frame and allocates nothing.
import * as THREE from 'three';
import { SnapshotBuffer } from './interp.js';
import { POS_UNIT_M, ROT_SCALE } from './protocol.js';

export const MAX_AVATARS = 128;
const FADE_S = 0.25;
const TAG_COLS = 4, TAG_ROWS = 32, TAG_W = 256, TAG_H = 64; // 128 cells in a 1024x2048 atlas
const WIDTH = 21; // head p3 q4, left p3 q4, right p3 q4
const QUATS = [3, 10, 17];

const _m = new THREE.Matrix4(), _p = new THREE.Vector3(), _q = new THREE.Quaternion();
const _s = new THREE.Vector3(), _up = new THREE.Vector3(0, 1, 0), _yq = new THREE.Quaternion();
const _zero = new THREE.Matrix4().makeScale(0, 0, 0);
const _tmp = new Float32Array(WIDTH);
const _c = new THREE.Color();

class Avatar {
  constructor() {
    this.buf = new SnapshotBuffer(WIDTH, QUATS);
    this.out = new Float32Array(WIDTH);
    this.id = 0; this.name = ''; this.color = '#888888'; this.col = new THREE.Color(); this.slot = -1;
    this.fade = 0; this.leaving = false; this.hasPose = false;
    this.hidden = false; // blocked by us: not drawn
    this.tagW = 1; // the name tag's width as a fraction of its atlas cell (sized to the name)
  }
}

export class Avatars {
  constructor(scene) {
    this.byId = new Map();
    this.list = []; // dense, iterated with an index in the frame loop
    this.pool = [];
    this.freeSlots = [];
    for (let i = MAX_AVATARS - 1; i >= 0; i--) this.freeSlots.push(i);
    const lambert = (opts) => new THREE.MeshLambertMaterial(opts);
    const mk = (geo, mat, n, name) => {
      const m = new THREE.InstancedMesh(geo, mat, n);
      m.frustumCulled = false; // instances span the world; culling per-avatar is not worth it
      m.count = 0;
      m.name = name;
      m.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
      scene.add(m);
      return m;
    };
    this.head = mk(new THREE.SphereGeometry(0.11, 12, 8).scale(1, 1.1, 1.05), lambert({ color: 0xffffff }), MAX_AVATARS, 'avatar-heads');
    this.visor = mk(new THREE.BoxGeometry(0.17, 0.055, 0.06).translate(0, 0.015, -0.085), lambert({ color: 0x111822 }), MAX_AVATARS, 'avatar-visors');
    this.torso = mk(new THREE.CylinderGeometry(0.13, 0.17, 0.55, 10).translate(0, -0.5, 0), lambert({ color: 0xffffff }), MAX_AVATARS, 'avatar-torsos');
    this.hands = mk(new THREE.BoxGeometry(0.07, 0.035, 0.12), lambert({ color: 0xffffff }), MAX_AVATARS * 2, 'avatar-hands');
    for (const m of [this.head, this.torso, this.hands]) { m.setColorAt(0, _c.set(1, 1, 1)); }
    this._tags(scene);
    this.meshes = [this.head, this.visor, this.torso, this.hands, this.tags]; // reused every frame
  }

  _tags(scene) {
    const c = document.createElement('canvas');
    c.width = TAG_W * TAG_COLS; c.height = TAG_H * TAG_ROWS;
    this.atlas = c.getContext('2d');
    this.atlasTex = new THREE.CanvasTexture(c);
    this.atlasTex.colorSpace = THREE.SRGBColorSpace;
    const geo = new THREE.PlaneGeometry(1, 1);
    this.tagSlot = new THREE.InstancedBufferAttribute(new Float32Array(MAX_AVATARS), 1);
    this.tagSlot.setUsage(THREE.DynamicDrawUsage);
    geo.setAttribute('slot', this.tagSlot);
    this.tagWidth = new THREE.InstancedBufferAttribute(new Float32Array(MAX_AVATARS).fill(1), 1);
    this.tagWidth.setUsage(THREE.DynamicDrawUsage);
    geo.setAttribute('tagw', this.tagWidth);
    const mat = new THREE.ShaderMaterial({
      transparent: true, depthWrite: false,
      uniforms: { atlas: { value: this.atlasTex }, cells: { value: new THREE.Vector2(TAG_COLS, TAG_ROWS) }, size: { value: new THREE.Vector2(0.48, 0.12) } },
      // Billboard: place the quad in view space around the instance origin, so it always
      // faces the viewer (per eye in VR) without any per-frame CPU work.
      // tagw: the tag is only as wide as its name (a cell's left part), so "Al" is not a
      // long empty pill.
      vertexShader: `attribute float slot; attribute float tagw; uniform vec2 cells; uniform vec2 size; varying vec2 vUv;
        void main() {
          vec4 c = modelViewMatrix * instanceMatrix * vec4(0.0, 0.0, 0.0, 1.0);
          float s = length(instanceMatrix[0].xyz);
          c.xy += position.xy * vec2(size.x * tagw, size.y) * s;
          gl_Position = projectionMatrix * c;
          float col = mod(slot, cells.x), row = floor(slot / cells.x);
          vUv = vec2((col + uv.x * tagw) / cells.x, 1.0 - (row + 1.0 - uv.y) / cells.y);
        }`,
      fragmentShader: `uniform sampler2D atlas; varying vec2 vUv;
        void main() { vec4 t = texture2D(atlas, vUv); if (t.a < 0.05) discard; gl_FragColor = t;
          #include <colorspace_fragment>
        }`,
    });
    this.tags = new THREE.InstancedMesh(geo, mat, MAX_AVATARS);
    this.tags.frustumCulled = false;
    this.tags.count = 0;
    this.tags.name = 'avatar-nametags';
    this.tags.renderOrder = 10;
    scene.add(this.tags);
  }

  /** Draws the tag into its cell; returns its width as a fraction of the cell. */
  _drawTag(slot, name, color) {
    const g = this.atlas, x = (slot % TAG_COLS) * TAG_W, y = Math.floor(slot / TAG_COLS) * TAG_H;
    g.clearRect(x, y, TAG_W, TAG_H);
    g.font = '600 32px system-ui, sans-serif';
    const w = Math.min(TAG_W, Math.ceil(g.measureText(name).width) + 50 + 20);
    g.fillStyle = 'rgba(10,12,20,0.72)';
    g.beginPath(); g.roundRect(x + 2, y + 4, w - 4, TAG_H - 8, 22); g.fill();
    g.fillStyle = color;
    g.beginPath(); g.arc(x + 30, y + TAG_H / 2, 12, 0, Math.PI * 2); g.fill();
    g.fillStyle = '#ffffff';
    g.font = '600 32px system-ui, sans-serif';
    g.textBaseline = 'middle';
    let text = name;
    while (g.measureText(text).width > TAG_W - 64 && text.length > 1) text = text.slice(0, -1);
    if (text !== name) text = text.slice(0, -1) + '…';
    g.fillText(text, x + 50, y + TAG_H / 2 + 1);
    this.atlasTex.needsUpdate = true;
    return w / TAG_W;
  }

  /** Voice: the name tag shows a speaker and turns green while `id` talks (voice.js). */
  setSpeaking(id, on) {
    const a = this.byId.get(id);
    if (!a || a.speaking === on) return;
    a.speaking = on;
    a.tagW = this._drawTag(a.slot, on ? `🔊 ${a.name}` : a.name, on ? '#3ddc84' : a.color);
  }

  /** The head position of `id` as rendered this frame ([x, y, z] metres), or null (voice.js). */
  headPosition(id) {
    const a = this.byId.get(id);
    return a && a.hasPose ? [a.out[0], a.out[1], a.out[2]] : null;
  }

  /** Hide (block) or show avatar `id`; a blocked person is not drawn at all. */
  setHidden(id, hidden) {
    const a = this.byId.get(id);
    if (a) a.hidden = hidden;
  }

  /** A new avatar entity (STATE enter). `values` are the protocol integers. */
  enter(id, name, color, values, t) {
    let a = this.byId.get(id);
    if (!a) {
      if (this.list.length >= MAX_AVATARS) { console.warn('plaza: too many avatars to draw'); return; }
      a = this.pool.pop() || new Avatar();
      a.id = id; a.fade = 0; a.hasPose = false;
      a.slot = this.freeSlots.pop();
      a.buf.clear();
      this.byId.set(id, a);
      this.list.push(a);
    }
    a.leaving = false;
    a.hidden = !!this.isHidden?.(id, name);
    a.name = name || `#${id}`;
    a.color = color || '#888888';
    a.col.set(a.color);
    a.speaking = false;
    a.tagW = this._drawTag(a.slot, a.name, a.color);
    this.push(id, values, t);
  }

  /** Add the snapshot at tick time t from protocol integers. */
  push(id, values, t) {
    const a = this.byId.get(id);
    if (!a) return;
    for (let g = 0; g < 3; g++) {
      const o = g * 7;
      _tmp[o] = values[o] * POS_UNIT_M; _tmp[o + 1] = values[o + 1] * POS_UNIT_M; _tmp[o + 2] = values[o + 2] * POS_UNIT_M;
      let x = values[o + 3], y = values[o + 4], z = values[o + 5], w = values[o + 6];
      const n = Math.hypot(x, y, z, w) || ROT_SCALE;
      if (x === 0 && y === 0 && z === 0 && w === 0) w = ROT_SCALE;
      _tmp[o + 3] = x / n; _tmp[o + 4] = y / n; _tmp[o + 5] = z / n; _tmp[o + 6] = w / n;
    }
    a.buf.push(t, _tmp);
    a.hasPose = true;
  }

  leave(id) {
    const a = this.byId.get(id);
    if (a) a.leaving = true;
  }

  clear() {
    for (const a of this.list) { this.freeSlots.push(a.slot); this.pool.push(a); }
    this.list.length = 0;
    this.byId.clear();
  }

  /** Per frame: interpolate every avatar at renderTime and write the instance matrices. */
  update(renderTime, dt) {
    const list = this.list;
    for (let i = list.length - 1; i >= 0; i--) {
      const a = list[i];
      a.fade += (a.leaving ? -dt : dt) / FADE_S;
      if (a.fade > 1) a.fade = 1;
      if (a.leaving && a.fade <= 0) {
        // swap-remove keeps the list dense without shifting
        list[i] = list[list.length - 1];
        list.length--;
        this.byId.delete(a.id);
        this.freeSlots.push(a.slot);
        this.pool.push(a);
      }
    }
    let n = 0;
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (!a.hasPose || !a.buf.sample(renderTime, a.out) || a.hidden) continue;
      const o = a.out;
      const s = a.fade * a.fade * (3 - 2 * a.fade); // smoothstep: appear/disappear without popping
      _p.set(o[0], o[1], o[2]); _q.set(o[3], o[4], o[5], o[6]); _s.set(s, s, s);
      _m.compose(_p, _q, _s);
      this.head.setMatrixAt(n, _m); this.head.setColorAt(n, a.col);
      this.visor.setMatrixAt(n, _m);
      // Torso follows the head's yaw only, so looking down does not tip the body.
      const yaw = Math.atan2(2 * (o[6] * o[4] + o[3] * o[5]), 1 - 2 * (o[3] * o[3] + o[4] * o[4]));
      _yq.setFromAxisAngle(_up, yaw);
      this.torso.setMatrixAt(n, _m.compose(_p, _yq, _s)); this.torso.setColorAt(n, a.col);
      _p.y += 0.3;
      this.tags.setMatrixAt(n, _m.compose(_p, _yq, _s));
      this.tagSlot.array[n] = a.slot;
      this.tagWidth.array[n] = a.tagW;
      for (let h = 0; h < 2; h++) {
        const b = 7 + h * 7;
        _p.set(o[b], o[b + 1], o[b + 2]); _q.set(o[b + 3], o[b + 4], o[b + 5], o[b + 6]);
        this.hands.setMatrixAt(2 * n + h, _m.compose(_p, _q, _s));
        this.hands.setColorAt(2 * n + h, a.col);
      }
      n++;
    }
    this.head.count = this.visor.count = this.torso.count = this.tags.count = n;
    this.hands.count = 2 * n;
    const all = this.meshes;
    for (let i = 0; i < all.length; i++) {
      all[i].instanceMatrix.needsUpdate = true;
      if (all[i].instanceColor) all[i].instanceColor.needsUpdate = true;
    }
    this.tagSlot.needsUpdate = true;
    this.tagWidth.needsUpdate = true;
    this.visible = n;
  }

  /** Plain JSON for window.plaza.state(): poses as rendered this frame. */
  snapshot() {
    const r = (x) => Math.round(x * 10000) / 10000;
    const pose = (o, b) => ({ p: [r(o[b]), r(o[b + 1]), r(o[b + 2])], q: [r(o[b + 3]), r(o[b + 4]), r(o[b + 5]), r(o[b + 6])] });
    return this.list.filter((a) => a.hasPose && !a.leaving).map((a) => ({
      id: a.id, name: a.name, color: a.color, hidden: a.hidden, tagWidth: r(a.tagW),
      head: pose(a.out, 0), left: pose(a.out, 7), right: pose(a.out, 14),
    }));
  }
}
