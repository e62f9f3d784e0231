// Speech bubbles and emoji reactions over avatars' heads. A bubble shows someone's latest chat
// line for a few seconds (one per person, replaced by the next line); a reaction (REACTION 80)
// rises and fades. Both are canvas-texture planes turned to the viewer each frame; there are
// only ever a handful, so they are individual meshes.
import * as THREE from 'three';
import { makeLabel } from './labels.js';

export const REACTIONS = Object.freeze({
  1: { emoji: '👋', word: 'wave' },
  2: { emoji: '❤️', word: 'heart' },
  3: { emoji: '👏', word: 'clap' },
  4: { emoji: '😂', word: 'haha' },
  5: { emoji: '👍', word: 'yes' },
  6: { emoji: '😮', word: 'wow' },
});
const BUBBLE_S = 6, REACTION_S = 2.5, MAX_REACTIONS = 24;

function wrap(text, width = 28, lines = 3) {
  const words = String(text).split(/\s+/), out = [];
  let cur = '';
  for (const w of words) {
    if ((cur + ' ' + w).trim().length > width && cur) { out.push(cur); cur = w; } else cur = (cur + ' ' + w).trim();
    if (out.length === lines) break;
  }
  if (out.length < lines && cur) out.push(cur);
  if (out.join(' ').length < String(text).trim().length) out[out.length - 1] = out[out.length - 1].slice(0, width - 1) + '…';
  return out.join('\n');
}

const _p = new THREE.Vector3(), _o = new THREE.Vector3(), _q = new THREE.Quaternion();

export class Bubbles {
  constructor(scene, avatars) {
    this.scene = scene;
    this.avatars = avatars;
    this.group = new THREE.Group();
    this.group.name = 'bubbles';
    scene.add(this.group);
    this.bubbles = new Map(); // entity -> {mesh, age}
    this.reactions = []; // {id, mesh, age}
  }

  _dispose(mesh) {
    this.group.remove(mesh);
    mesh.geometry.dispose(); mesh.material.map?.dispose(); mesh.material.dispose();
  }

  say(id, text) {
    const old = this.bubbles.get(id);
    if (old) this._dispose(old.mesh);
    const mesh = makeLabel(wrap(text), { height: 0.075, color: '#10131c', background: 'rgba(255,255,255,0.92)' });
    mesh.renderOrder = 12;
    mesh.name = `bubble:${id}`;
    this.group.add(mesh);
    this.bubbles.set(id, { mesh, age: 0, text });
  }

  react(id, kind) {
    const r = REACTIONS[kind];
    if (!r) return;
    // The word under the emoji: readable even where no emoji font is installed.
    const mesh = makeLabel(`${r.emoji}\n${r.word}`, { height: 0.11, color: '#ffffff', background: null });
    mesh.renderOrder = 13;
    mesh.name = `reaction:${id}:${r.word}`;
    mesh.material.depthTest = false;
    this.group.add(mesh);
    this.reactions.push({ id, mesh, age: 0, kind });
    while (this.reactions.length > MAX_REACTIONS) this._dispose(this.reactions.shift().mesh);
  }

  /** Per frame: follow heads, face the camera, age out. `self` = our own head (our reactions). */
  update(dt, camera, selfId, selfHead) {
    if (!this.bubbles.size && !this.reactions.length) return;
    camera.getWorldQuaternion(_q);
    const head = (id) => {
      if (id === selfId) return _p.copy(selfHead);
      const a = this.avatars.byId.get(id);
      if (!a || !a.hasPose || a.hidden) return null;
      return _p.set(a.out[0], a.out[1], a.out[2]);
    };
    for (const [id, b] of this.bubbles) {
      b.age += dt;
      const p = id === selfId ? null : head(id);
      if (b.age > BUBBLE_S || (id !== selfId && !p)) {
        if (b.age > BUBBLE_S || !this.avatars.byId.has(id)) { this._dispose(b.mesh); this.bubbles.delete(id); }
        else b.mesh.visible = false;
        continue;
      }
      if (!p) { b.mesh.visible = false; continue; }
      b.mesh.visible = true;
      b.mesh.position.set(p.x, p.y + 0.5 + b.mesh.scale.y / 2, p.z);
      b.mesh.quaternion.copy(_q);
      b.mesh.material.opacity = Math.min(1, (BUBBLE_S - b.age) / 0.5);
    }
    for (let i = this.reactions.length - 1; i >= 0; i--) {
      const r = this.reactions[i];
      r.age += dt;
      const p = head(r.id);
      if (r.age > REACTION_S || !p) { this._dispose(r.mesh); this.reactions.splice(i, 1); continue; }
      // Ours floats in front of our eyes (we cannot see above our own head).
      if (r.id === selfId) { camera.getWorldDirection(_o); _o.y = 0; p.addScaledVector(_o.normalize(), 0.9).y -= 0.4; }
      r.mesh.position.set(p.x, p.y + 0.35 + 0.5 * (r.age / REACTION_S), p.z);
      r.mesh.quaternion.copy(_q);
      r.mesh.material.opacity = 1 - Math.max(0, (r.age - REACTION_S * 0.6) / (REACTION_S * 0.4));
    }
  }

  snapshot() {
    return {
      bubbles: [...this.bubbles].map(([id, b]) => ({ id, text: b.text })),
      reactions: this.reactions.map((r) => ({ id: r.id, kind: r.kind })),
    };
  }

  clear() {
    for (const b of this.bubbles.values()) this._dispose(b.mesh);
    for (const r of this.reactions) this._dispose(r.mesh);
    this.bubbles.clear();
    this.reactions.length = 0;
  }
}
