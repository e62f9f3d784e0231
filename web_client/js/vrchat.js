// The in-VR chat panel: a canvas texture on a small board above the left controller, with
// the latest messages and quick-phrase buttons pressed by pointing the other controller's
// ray at them and pulling the trigger. The canvas is redrawn only when something changes.
import * as THREE from 'three';

const W = 512, H = 420;
export const QUICK_PHRASES = ['Hi!', 'Over here!', 'Thanks!', 'Bye!'];
const BTN_Y = H - 70, BTN_H = 56;

const _ray = new THREE.Raycaster(), _q = new THREE.Quaternion(), _o = new THREE.Vector3(), _d = new THREE.Vector3();

export class VRChatPanel {
  constructor(onPhrase) {
    this.onPhrase = onPhrase;
    this.lines = [];
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

  add(text) {
    this.lines.push(text);
    if (this.lines.length > 7) this.lines.shift();
    this.draw();
  }

  draw() {
    const g = this.canvas.getContext('2d');
    g.clearRect(0, 0, W, H);
    g.fillStyle = 'rgba(12,16,28,0.86)';
    g.beginPath(); g.roundRect(0, 0, W, H, 24); g.fill();
    g.fillStyle = '#9fc7ff';
    g.font = '600 26px system-ui, sans-serif';
    g.fillText('Chat', 20, 38);
    const [st, stText] = this.status;
    g.fillStyle = { connected: '#3ddc84', failed: '#ff5050', offline: '#888888' }[st] || '#ffc940';
    g.font = '20px system-ui, sans-serif';
    g.textAlign = 'right';
    g.fillText(`● ${st === 'connected' ? 'Connected' : stText.slice(0, 34)}`, W - 20, 36);
    g.textAlign = 'left';
    g.font = '24px system-ui, sans-serif';
    g.fillStyle = '#ffffff';
    let y = 76;
    for (const l of this.lines) {
      let t = l;
      while (g.measureText(t).width > W - 40 && t.length > 4) t = t.slice(0, -2);
      if (t !== l) t += '…';
      g.fillText(t, 20, y);
      y += 34;
    }
    const bw = (W - 20) / QUICK_PHRASES.length;
    QUICK_PHRASES.forEach((p, i) => {
      g.fillStyle = '#2d5fa8';
      g.beginPath(); g.roundRect(10 + i * bw + 4, BTN_Y, bw - 8, BTN_H, 12); g.fill();
      g.fillStyle = '#ffffff';
      g.font = '600 22px system-ui, sans-serif';
      g.textAlign = 'center';
      g.fillText(p, 10 + i * bw + bw / 2, BTN_Y + 36);
      g.textAlign = 'left';
    });
    this.tex.needsUpdate = true;
  }

  /** A trigger press from `controller`: if its ray hits a quick-phrase button, send it. */
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
    if (y < BTN_Y || y > BTN_Y + BTN_H) return true; // on the panel: swallow, do not grab
    const i = Math.floor((x - 10) / ((W - 20) / QUICK_PHRASES.length));
    if (i >= 0 && i < QUICK_PHRASES.length) this.onPhrase(QUICK_PHRASES[i]);
    return true;
  }
}
