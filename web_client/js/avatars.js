// Remote avatars: a look (a bundled glTF: head, torso, hand meshes), an accessory worn on the
// head, the person's colour, a name tag. Every look's part and every accessory is one
// InstancedMesh shared by all avatars wearing it, so draw calls grow with the looks in use
// (at most 4 looks x 3 parts + 3 accessories + name tags = 16), never with the number of
// people; a mesh with no instance this frame is not drawn. The head mesh follows the head
// pose, the torso the head's position and yaw, each hand a hand pose. The GLBs come from
// `python -m genmodels.avatars` (web_client/avatars/); their COLOR_0 alpha says which vertices
// take the person's colour (255) and which keep theirs (0). Until a look's file has loaded
// its wearers are drawn with built-in primitives of the classic look. Name tags are cells of
// one canvas atlas drawn by a billboard shader. update() runs every frame and allocates nothing.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { SnapshotBuffer } from './interp.js';
import { AVATAR_ACCESSORIES, AVATAR_LOOKS, POS_UNIT_M, ROT_SCALE } from './protocol.js';

export const AVATAR_DIR = '/avatars/';

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
    this.look = 0; this.accessory = 0; // indexes into AVATAR_LOOKS / AVATAR_ACCESSORIES
  }
}

/** Vertex colours times the instance colour where the file's COLOR_0 alpha says "tint" (1),
 * the vertex colour alone where it says "keep" (0). One material for every look. */
function tintMaterial() {
  const m = new THREE.MeshLambertMaterial({ color: 0xffffff, vertexColors: true });
  m.onBeforeCompile = (sh) => {
    sh.vertexShader = sh.vertexShader.replace('#include <color_vertex>', `#include <color_vertex>
      #if defined( USE_COLOR_ALPHA ) && defined( USE_INSTANCING_COLOR )
        vColor = vec4( color.rgb * mix( vec3( 1.0 ), instanceColor.rgb, color.a ), 1.0 );
      #endif`);
  };
  m.customProgramCacheKey = () => 'plaza-avatar-tint';
  return m;
}

/** `{look, accessory}` from the server (or nothing: an old server, an NPC) -> indexes. */
export function lookIndexes(avatar) {
  const look = Math.max(0, AVATAR_LOOKS.indexOf(avatar?.look));
  const acc = Math.max(0, AVATAR_ACCESSORIES.indexOf(avatar?.accessory));
  return [look, acc];
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
    // The built-in stand-in (drawn until a look's GLB is in): head + visor, torso, hands.
    this.fallback = { head: this.head, visor: this.visor, torso: this.torso, hands: this.hands, n: 0 };
    this._tags(scene);
    this.meshes = [this.head, this.visor, this.torso, this.hands, this.tags]; // reused every frame
    this.looks = AVATAR_LOOKS.map(() => null); // per look: {head, torso, hands, n} once loaded
    this.accessories = AVATAR_ACCESSORIES.map(() => null); // per accessory (0 = none): {mesh, n}
    this.loaded = 0; // GLB files in
    this.material = tintMaterial();
    this._load(scene, mk);
  }

  _load(scene, mk) {
    const loader = new GLTFLoader();
    const geo = (root, name) => {
      const o = root.getObjectByName(name);
      if (!o || !o.geometry) throw new Error(`avatar GLB without a "${name}" mesh`);
      o.updateWorldMatrix(true, false);
      return o.geometry.clone().applyMatrix4(o.matrixWorld);
    };
    const withColor = (m) => { m.setColorAt(0, _c.set(1, 1, 1)); return m; };
    AVATAR_LOOKS.forEach((look, i) => {
      loader.load(`${AVATAR_DIR}${look}.glb`, (g) => {
        const mat = this.material;
        const part = (name, n) => withColor(mk(geo(g.scene, name), mat, n, `avatar-${look}-${name}`));
        const group = { head: part('head', MAX_AVATARS), torso: part('torso', MAX_AVATARS), hands: part('hand', MAX_AVATARS * 2), n: 0 };
        this.meshes.push(group.head, group.torso, group.hands);
        this.looks[i] = group;
        this.loaded++;
      }, undefined, (e) => console.warn(`plaza: avatar look ${look} did not load`, e));
    });
    loader.load(`${AVATAR_DIR}accessories.glb`, (g) => {
      AVATAR_ACCESSORIES.forEach((name, i) => {
        if (i === 0) return; // none
        const mesh = withColor(mk(geo(g.scene, name), this.material, MAX_AVATARS, `avatar-accessory-${name}`));
        this.meshes.push(mesh);
        this.accessories[i] = { mesh, n: 0 };
      });
      this.loaded++;
    }, undefined, (e) => console.warn('plaza: avatar accessories did not load', e));
  }

  /** True once every look and the accessories have loaded (tests, screenshots). */
  get ready() { return this.loaded === AVATAR_LOOKS.length + 1; }

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

  /** A new avatar entity (STATE enter). `values` are the protocol integers; `avatar` is
   * info.avatar ({look, accessory}; missing or unknown names: the defaults). */
  enter(id, name, color, values, t, avatar = null) {
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
    [a.look, a.accessory] = lookIndexes(avatar);
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
    const fb = this.fallback;
    fb.n = 0;
    for (let i = 0; i < this.looks.length; i++) if (this.looks[i]) this.looks[i].n = 0;
    for (let i = 1; i < this.accessories.length; i++) if (this.accessories[i]) this.accessories[i].n = 0;
    let n = 0;
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (!a.hasPose || !a.buf.sample(renderTime, a.out) || a.hidden) continue;
      const o = a.out;
      const g = this.looks[a.look] || fb;
      const k = g.n++;
      const s = a.fade * a.fade * (3 - 2 * a.fade); // smoothstep: appear/disappear without popping
      _p.set(o[0], o[1], o[2]); _q.set(o[3], o[4], o[5], o[6]); _s.set(s, s, s);
      _m.compose(_p, _q, _s);
      g.head.setMatrixAt(k, _m); g.head.setColorAt(k, a.col);
      if (g === fb) fb.visor.setMatrixAt(k, _m);
      const acc = this.accessories[a.accessory];
      if (acc) { acc.mesh.setMatrixAt(acc.n, _m); acc.mesh.setColorAt(acc.n, a.col); acc.n++; }
      // Torso follows the head's yaw only, so looking down does not tip the body.
      const yaw = Math.atan2(2 * (o[6] * o[4] + o[3] * o[5]), 1 - 2 * (o[3] * o[3] + o[4] * o[4]));
      _yq.setFromAxisAngle(_up, yaw);
      g.torso.setMatrixAt(k, _m.compose(_p, _yq, _s)); g.torso.setColorAt(k, a.col);
      _p.y += 0.3;
      this.tags.setMatrixAt(n, _m.compose(_p, _yq, _s));
      this.tagSlot.array[n] = a.slot;
      this.tagWidth.array[n] = a.tagW;
      for (let h = 0; h < 2; h++) {
        const b = 7 + h * 7;
        _p.set(o[b], o[b + 1], o[b + 2]); _q.set(o[b + 3], o[b + 4], o[b + 5], o[b + 6]);
        g.hands.setMatrixAt(2 * k + h, _m.compose(_p, _q, _s));
        g.hands.setColorAt(2 * k + h, a.col);
      }
      n++;
    }
    this.tags.count = n;
    fb.visor.count = fb.n;
    for (let i = -1; i < this.looks.length; i++) {
      const gr = i < 0 ? fb : this.looks[i];
      if (!gr) continue;
      gr.head.count = gr.torso.count = gr.n;
      gr.hands.count = 2 * gr.n;
    }
    for (let i = 1; i < this.accessories.length; i++) if (this.accessories[i]) this.accessories[i].mesh.count = this.accessories[i].n;
    const all = this.meshes;
    for (let i = 0; i < all.length; i++) {
      all[i].visible = all[i].count > 0; // no instances: no draw call (and nothing to upload)
      if (!all[i].visible) continue;
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
      look: AVATAR_LOOKS[a.look], accessory: AVATAR_ACCESSORIES[a.accessory],
      head: pose(a.out, 0), left: pose(a.out, 7), right: pose(a.out, 14),
    }));
  }
}
