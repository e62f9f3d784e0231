// The in-VR wrist menu: a canvas texture on a small board above the left controller, pressed
// by pointing the other controller's ray at it and pulling the trigger. Pages:
// - chat: the latest messages, a toolbar (Type, People, Mute, Leave, Settings) and quick phrases;
// - keyboard: a virtual keyboard for free-text chat (Send, ⌫, Space, Close);
// - people: who is here and how far (from the App's people list);
// - settings: snap or smooth turn, teleport or smooth move, the avatar's look and accessory
//   (the App passes them on to the same UI setters the desktop HUD's controls use).
// The canvas is redrawn only when something changes.
import * as THREE from 'three';

const W = 512, H = 420;
export const QUICK_PHRASES = ['Hi!', 'Over here!', 'Thanks!', 'Bye!'];
const BTN_Y = H - 70, BTN_H = 56; // the bottom row (quick phrases; keyboard: Space/⌫/Send/Close)
const TOOL_Y = BTN_Y - 62, TOOL_H = 50;
const CHAT_LINES = 5;
const KEY_ROWS = ['1234567890', 'QWERTYUIOP', 'ASDFGHJKL?', 'ZXCVBNM,.!'];
const SET_X = 112, SET_Y = 58, SET_H = 48, SET_GAP = 10; // the settings page's rows

const _ray = new THREE.Raycaster(), _q = new THREE.Quaternion(), _o = new THREE.Vector3(), _d = new THREE.Vector3();

export class VRChatPanel {
  /**
   * @param {(text: string) => void} onPhrase send a chat line
   * @param {{onLeave?: () => void, onMute?: () => void, muted?: () => boolean|null, people?: () => string[],
   *   settings?: () => {turn: string, move: string, look: string, accessory: string},
   *   options?: {look: [string, string][], accessory: [string, string][]},
   *   set?: (kind: string, value: string) => void}} [menu] settings: the current choices; options:
   *   [value, label] lists for the avatar rows; set(kind, value) applies one (kind: turn, move, look, accessory)
   */
  constructor(onPhrase, menu = {}) {
    this.onPhrase = onPhrase;
    this.menu = menu;
    this.lines = [];
    this.page = 'chat';
    this.typed = '';
    this.shift = false;
    this.hits = []; // [{x, y, w, h, act}] of the last draw
    this.canvas = document.createElement('canvas');
    this.canvas.width = W; this.canvas.height = H;
    this.tex = new THREE.CanvasTexture(this.canvas);
    this.tex.colorSpace = THREE.SRGBColorSpace;
    this.mesh = new THREE.Mesh(new THREE.PlaneGeometry(0.32, 0.32 * H / W),
      new THREE.MeshBasicMaterial({ map: this.tex, transparent: true, side: THREE.DoubleSide }));
    // Above the controller, tilted towards the face like a wrist board.
    this.mesh.position.set(0, 0.16, -0.06);
    this.mesh.rotation.x = -0.5;
    this.mesh.name = 'vr-chat-panel';
    this.mesh.visible = false;
    this.attachedTo = null;
    this.status = ['offline', ''];
    this.draw();
  }

  attach(controller) {
    if (this.attachedTo === controller) return;
    controller.add(this.mesh);
    this.attachedTo = controller;
  }

  /** Connection state shown in the panel header (the DOM status bar is hidden in VR). */
  setStatus(state, text) {
    this.status = [state, text];
    this.draw();
  }

  /** The growing join/leave line: rewritten in place while it is the latest line. */
  presence(text) {
    if (this.presenceIdx !== undefined && this.presenceIdx === this.lines.length - 1) {
      this.lines[this.presenceIdx] = `· ${text}`;
      this.draw();
      return;
    }
    this.add(`· ${text}`);
    this.presenceIdx = this.lines.length - 1;
  }

  add(text) {
    this.presenceIdx = undefined;
    this.lines.push(text);
    if (this.lines.length > 7) this.lines.shift();
    if (this.page === 'chat') this.draw();
  }

  _button(g, x, y, w, h, label, act, color = '#2d5fa8') {
    g.fillStyle = color;
    g.beginPath(); g.roundRect(x, y, w, h, 12); g.fill();
    g.fillStyle = '#ffffff';
    let px = h > 40 ? 22 : 20;
    g.font = `600 ${px}px system-ui, sans-serif`;
    while (px > 14 && g.measureText(label).width > w - 8) g.font = `600 ${--px}px system-ui, sans-serif`;
    g.textAlign = 'center';
    g.fillText(label, x + w / 2, y + h / 2 + 8);
    g.textAlign = 'left';
    this.hits.push({ x, y, w, h, act });
  }

  _fit(g, l, max = W - 40) {
    let t = l;
    while (g.measureText(t).width > max && t.length > 4) t = t.slice(0, -2);
    return t === l ? t : t + '…';
  }

  draw() {
    const g = this.canvas.getContext('2d');
    this.hits = [];
    g.clearRect(0, 0, W, H);
    g.fillStyle = 'rgba(12,16,28,0.86)';
    g.beginPath(); g.roundRect(0, 0, W, H, 24); g.fill();
    g.fillStyle = '#9fc7ff';
    g.font = '600 26px system-ui, sans-serif';
    g.fillText({ chat: 'Chat', keyboard: 'Type a message', people: 'People here', settings: 'Settings' }[this.page], 20, 38);
    const [st, stText] = this.status;
    g.fillStyle = { connected: '#3ddc84', failed: '#ff5050', offline: '#888888' }[st] || '#ffc940';
    g.font = '20px system-ui, sans-serif';
    g.textAlign = 'right';
    g.fillText(`● ${st === 'connected' ? 'Connected' : stText.slice(0, 34)}`, W - 20, 36);
    g.textAlign = 'left';
    if (this.page === 'keyboard') this._drawKeyboard(g);
    else if (this.page === 'settings') this._drawSettings(g);
    else {
      g.font = '24px system-ui, sans-serif';
      g.fillStyle = '#ffffff';
      let y = 76;
      const rows = this.page === 'people' ? (this.menu.people?.() || []).slice(0, CHAT_LINES) : this.lines.slice(-CHAT_LINES);
      for (const l of rows) { g.fillText(this._fit(g, l), 20, y); y += 40; }
      const muted = this.menu.muted?.();
      const tools = [['⌨ Type', 'keyboard'], [this.page === 'people' ? 'Chat' : 'People', this.page === 'people' ? 'chat' : 'people'],
        [muted === null || muted === undefined ? 'Mic —' : muted ? 'Unmute' : 'Mute', 'mute'], ['⚙ Settings', 'settings'], ['Leave', 'leave']];
      const tw = (W - 20) / tools.length;
      tools.forEach(([label, act], i) => this._button(g, 10 + i * tw + 4, TOOL_Y, tw - 8, TOOL_H, label, act, act === 'leave' ? '#8a2b3c' : '#39405a'));
      const bw = (W - 20) / QUICK_PHRASES.length;
      QUICK_PHRASES.forEach((p, i) => this._button(g, 10 + i * bw + 4, BTN_Y, bw - 8, BTN_H, p, `say:${p}`));
    }
    this.tex.needsUpdate = true;
  }

  _drawKeyboard(g) {
    g.fillStyle = '#1b2135';
    g.beginPath(); g.roundRect(14, 52, W - 28, 44, 10); g.fill();
    g.fillStyle = '#ffffff';
    g.font = '24px system-ui, sans-serif';
    let t = this.typed + '▏';
    while (g.measureText(t).width > W - 50 && t.length > 2) t = t.slice(1);
    g.fillText(t, 24, 82);
    const kh = 50, top = 104;
    KEY_ROWS.forEach((row, r) => {
      const kw = (W - 20) / row.length;
      [...row].forEach((k, i) => {
        const ch = this.shift || !/[A-Z]/.test(k) ? k : k.toLowerCase();
        this._button(g, 10 + i * kw + 2, top + r * (kh + 8), kw - 4, kh, ch, `key:${ch}`, '#39405a');
      });
    });
    const row = [['⇧', 'shift', 0.7], ['Space', 'key: ', 1.6], ['⌫', 'back', 0.8], ['Send', 'send', 1.1], ['Close', 'chat', 0.9]];
    const total = row.reduce((n, r) => n + r[2], 0);
    let x = 10;
    for (const [label, act, f] of row) {
      const w = ((W - 20) * f) / total;
      this._button(g, x + 3, BTN_Y, w - 6, BTN_H, label, act, act === 'send' ? '#2d7a4a' : act === 'shift' && this.shift ? '#6b3fb0' : '#2d5fa8');
      x += w;
    }
  }

  _drawSettings(g) {
    const cur = this.menu.settings?.() || {};
    const opts = this.menu.options || {};
    const rows = [
      ['Turn', 'turn', [['snap', 'Snap 30°'], ['smooth', 'Smooth']]],
      ['Move', 'move', [['teleport', 'Teleport'], ['smooth', 'Smooth']]],
      ['Look', 'look', opts.look || []],
      ['Extra', 'accessory', opts.accessory || []],
    ];
    rows.forEach(([title, kind, choices], r) => {
      const y = SET_Y + r * (SET_H + SET_GAP);
      g.fillStyle = '#9fc7ff';
      g.font = '600 22px system-ui, sans-serif';
      g.fillText(title, 20, y + SET_H / 2 + 8);
      const bw = (W - 10 - SET_X) / Math.max(1, choices.length);
      choices.forEach(([value, label], i) => {
        const on = cur[kind] === value;
        const x = SET_X + i * bw + 3;
        // The choice: green with a white outline (and a tick where there is room for one).
        this._button(g, x, y, bw - 6, SET_H, on && choices.length <= 2 ? `✓ ${label}` : label, `set:${kind}:${value}`, on ? '#2d7a4a' : '#39405a');
        if (on) { g.strokeStyle = '#ffffff'; g.lineWidth = 3; g.beginPath(); g.roundRect(x + 1.5, y + 1.5, bw - 9, SET_H - 3, 11); g.stroke(); }
      });
    });
    g.fillStyle = '#b8c2dc';
    g.font = '18px system-ui, sans-serif';
    g.fillText('A new look reconnects you; others see it at once.', 20, SET_Y + 4 * (SET_H + SET_GAP) + 22);
    this._button(g, 10 + 4, BTN_Y, W - 28, BTN_H, 'Back', 'chat');
  }

  /** Do what the button `act` (a hit rect's action) means; public for tests and keyboards. */
  press(act) {
    if (act.startsWith('say:')) this.onPhrase(act.slice(4));
    else if (act.startsWith('key:')) { if (this.typed.length < 200) this.typed += act.slice(4); if (this.shift) this.shift = false; }
    else if (act === 'back') this.typed = this.typed.slice(0, -1);
    else if (act === 'shift') this.shift = !this.shift;
    else if (act === 'send') { const t = this.typed.trim(); if (t) this.onPhrase(t); this.typed = ''; this.page = 'chat'; }
    else if (act === 'keyboard' || act === 'chat' || act === 'people' || act === 'settings') this.page = act;
    else if (act.startsWith('set:')) { const [, kind, value] = act.split(':'); this.menu.set?.(kind, value); }
    else if (act === 'mute') this.menu.onMute?.();
    else if (act === 'leave') { this.menu.onLeave?.(); return; }
    this.draw();
  }

  /** A trigger press from `controller`: if its ray hits a button, press it. */
  click(controller) {
    if (!this.mesh.visible || controller === this.attachedTo) return false;
    controller.updateMatrixWorld(true);
    controller.getWorldPosition(_o);
    controller.getWorldQuaternion(_q);
    _ray.set(_o, _d.set(0, 0, -1).applyQuaternion(_q));
    _ray.far = 5;
    const hit = _ray.intersectObject(this.mesh, false)[0];
    if (!hit || !hit.uv) return false;
    const x = hit.uv.x * W, y = (1 - hit.uv.y) * H;
    const b = this.hits.find((r) => x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h);
    if (b) this.press(b.act);
    return true; // on the panel: swallow, do not grab
  }
}
