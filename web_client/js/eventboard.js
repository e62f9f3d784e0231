// The lobby's 3D events board: the world file has a box "event-board" (docs/worlds.md,
// worlds/lobby.toml); this draws GET /api/events onto a canvas on its front face — live
// events first ("live now · started 12 min ago"), then the next ones, weekly repeats once.
import * as THREE from 'three';
import { eventTime } from './ui.js';

const W = 1024;

function canvasLines(g, text, x, y, maxW) {
  let t = text;
  while (g.measureText(t).width > maxW && t.length > 4) t = t.slice(0, -2);
  g.fillText(t === text ? t : t + '…', x, y);
}

/** The next `n` events, one per recurring event (its earliest occurrence), live ones first. */
export function boardEvents(events, n = 6) {
  const seen = new Set(), out = [];
  const sorted = [...events].sort((a, b) => (b.status === 'live') - (a.status === 'live') || String(a.start).localeCompare(String(b.start)));
  for (const ev of sorted) {
    const k = `${ev.world}/${ev.id}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(ev);
    if (out.length >= n) break;
  }
  return out;
}

export class EventBoard {
  /** @param {object} spec the "event-board" object of world_info (position, rotation, size) */
  constructor(spec) {
    const [sx, sy, sz] = [spec.size[0] * spec.scale[0], spec.size[1] * spec.scale[1], spec.size[2] * spec.scale[2]];
    this.canvas = document.createElement('canvas');
    this.canvas.width = W;
    this.canvas.height = Math.round((W * sy) / sx);
    this.tex = new THREE.CanvasTexture(this.canvas);
    this.tex.colorSpace = THREE.SRGBColorSpace;
    this.tex.anisotropy = 4;
    this.mesh = new THREE.Mesh(new THREE.PlaneGeometry(sx * 0.94, sy * 0.72),
      new THREE.MeshBasicMaterial({ map: this.tex, transparent: true, fog: false }));
    this.mesh.name = 'event-board-face';
    // On the box's +z face (the side its title text is on), a few mm proud of it, a little low
    // so the authored title above stays clear.
    const q = new THREE.Quaternion().fromArray(spec.rotation);
    const off = new THREE.Vector3(0, -sy * 0.1, sz / 2 + 0.01).applyQuaternion(q);
    this.mesh.position.fromArray(spec.position).add(off);
    this.mesh.quaternion.copy(q);
    this.events = [];
    this.lines = [];
    this.draw();
  }

  async refresh() {
    try {
      const r = await fetch('/api/events', { cache: 'no-store' });
      if (!r.ok) return;
      this.events = await r.json();
    } catch (e) { return; }
    this.draw();
  }

  draw() {
    const g = this.canvas.getContext('2d'), H = this.canvas.height;
    g.clearRect(0, 0, W, H);
    const evs = boardEvents(this.events);
    this.lines = evs.map((ev) => `${ev.status === 'live' ? 'LIVE ' : ''}${ev.title} — ${eventTime(ev)} · ${ev.world}`);
    const rowH = Math.min(110, H / Math.max(4, evs.length));
    g.textBaseline = 'middle';
    if (!evs.length) {
      g.fillStyle = '#c8d2ff';
      g.font = '500 52px system-ui, sans-serif';
      g.fillText('Nothing scheduled yet', 40, H / 2);
    }
    evs.forEach((ev, i) => {
      const y = rowH * (i + 0.5);
      let x = 30;
      if (ev.status === 'live') {
        g.fillStyle = '#c2294a';
        g.beginPath(); g.roundRect(x, y - 26, 110, 52, 10); g.fill();
        g.fillStyle = '#ffffff'; g.font = '700 36px system-ui, sans-serif';
        g.fillText('LIVE', x + 14, y + 2);
        x += 130;
      }
      g.fillStyle = '#ffffff';
      g.font = '600 44px system-ui, sans-serif';
      canvasLines(g, ev.title, x, y - 18, W - x - 30);
      g.fillStyle = ev.status === 'live' ? '#ff9db0' : '#ffd27a';
      g.font = '400 32px system-ui, sans-serif';
      canvasLines(g, `${eventTime(ev)} · ${ev.world}${ev.host ? ` · with ${ev.host}` : ''}`, x, y + 24, W - x - 30);
    });
    this.tex.needsUpdate = true;
  }

  dispose() {
    this.mesh.removeFromParent();
    this.mesh.geometry.dispose();
    this.mesh.material.dispose();
    this.tex.dispose();
  }
}
