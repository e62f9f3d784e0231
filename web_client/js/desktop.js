// Desktop and phone controls: WASD/arrows + pointer-lock mouse look (drag-to-look when the
// pointer cannot be locked), click or tap to grab and release, and an on-screen joystick on
// touch screens. Hands are synthesised where they would hang.
import * as THREE from 'three';

const WALK = 3.0; // m/s
const TURN = 2.0; // rad/s with the arrow keys
const EYE = 1.6;

const _f = new THREE.Vector3(), _r = new THREE.Vector3(), _mv = new THREE.Vector3();
const _ndc = new THREE.Vector2(), _o = new THREE.Vector3(), _d = new THREE.Vector3();
const _ray = new THREE.Raycaster();

export class DesktopControls {
  constructor(app) {
    this.app = app;
    // Held keys (code -> when pressed) and, for keys let go since the last frame, how long
    // they were held within it: movement follows how long a key was down, not how many frames
    // saw it — at 4 fps a frame is 250 ms, and a press late in one must not walk all of it.
    this.keys = new Map();
    this.tail = new Map();
    this.lastT = performance.now();
    this.pitch = 0;
    // The joystick likewise: its deflection now, since when, and deflection × ms already
    // spent this frame (so a stick let go between two frames still walks its share).
    this.joy = { x: 0, y: 0 };
    this.joyT = this.lastT;
    this.joyAcc = { x: 0, y: 0 };
    this.dragging = null;
    // Where a desktop-held object hangs: in front of the eyes, moved with the view.
    this.holdPoint = new THREE.Object3D();
    this.holdPoint.name = 'desktop-hold-point';
    app.camera.add(this.holdPoint);
    const canvas = app.renderer.domElement;
    addEventListener('keydown', (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      if (!this.keys.has(e.code)) this.keys.set(e.code, performance.now());
      // preventDefault: else this same Enter, now in the focused box, submits the empty form
      // (which blurs it again) and the next keys walk instead of typing.
      // Not on a focused button or link, though: there Enter presses it (a lobby "Join").
      const control = e.target instanceof Element && e.target.closest('button, a[href], select, summary, [role="button"], [contenteditable]');
      if ((e.code === 'Enter' || e.code === 'NumpadEnter') && !control) { e.preventDefault(); this.keys.delete(e.code); app.ui.focusChat(); }
    });
    addEventListener('keyup', (e) => this._release(e.code));
    addEventListener('blur', () => { for (const code of [...this.keys.keys()]) this._release(code); });
    document.addEventListener('mousemove', (e) => {
      if (document.pointerLockElement === canvas) this._look(e.movementX, e.movementY);
      else if (this.dragging === 'mouse') this._look(e.movementX, e.movementY);
    });
    canvas.addEventListener('mousedown', (e) => { this.down = { x: e.clientX, y: e.clientY }; if (document.pointerLockElement !== canvas) this.dragging = 'mouse'; });
    addEventListener('mouseup', () => { this.dragging = null; });
    canvas.addEventListener('click', (e) => {
      if (app.xrPresenting()) return;
      const moved = this.down ? Math.hypot(e.clientX - this.down.x, e.clientY - this.down.y) : 0;
      if (moved > 5) return; // that was a drag-to-look
      const locked = document.pointerLockElement === canvas;
      if (this.click(locked ? null : e.clientX, locked ? null : e.clientY)) return;
      if (!locked && canvas.requestPointerLock) {
        try { const p = canvas.requestPointerLock(); if (p && p.catch) p.catch(() => {}); } catch (err) { /* drag-to-look still works */ }
      }
    });
    this._touch(canvas);
  }

  /** Click/tap at (x, y) (or the screen centre): release what we hold, or grab what is there. */
  click(x = null, y = null) {
    const app = this.app;
    if (app.grab.held) { app.grab.release(); return true; }
    const el = app.renderer.domElement;
    if (x === null) _ndc.set(0, 0);
    else _ndc.set((x / el.clientWidth) * 2 - 1, -(y / el.clientHeight) * 2 + 1);
    app.camera.updateMatrixWorld(true);
    _ray.setFromCamera(_ndc, app.camera);
    const hits = _ray.intersectObjects(app.objects.grabbableObjects(), true);
    if (!hits.length || hits[0].distance > 5.5) return false;
    // Hold it where it was hit, at a comfortable distance in front of the eyes.
    const dist = Math.min(Math.max(hits[0].distance, 0.7), 2.0);
    _o.copy(_ray.ray.direction).multiplyScalar(dist).add(_ray.ray.origin);
    this.holdPoint.position.copy(app.camera.worldToLocal(_o));
    this.holdPoint.updateMatrixWorld(true);
    _o.copy(_ray.ray.origin); _d.copy(_ray.ray.direction);
    return app.grab.tryGrab(this.holdPoint, 'mouse', _o, _d);
  }

  _look(dx, dy) {
    this.app.rig.rotation.y -= dx * 0.0025;
    this.pitch = Math.max(-1.45, Math.min(1.45, this.pitch - dy * 0.0025));
  }

  _touch(canvas) {
    if (!('ontouchstart' in window) && !(navigator.maxTouchPoints > 0)) return;
    const pad = document.getElementById('joystick');
    const knob = pad && pad.querySelector('.knob');
    if (pad) pad.hidden = false;
    let joyId = null, lookId = null, lastX = 0, lastY = 0, startX = 0, startY = 0, startT = 0;
    const padRect = () => pad.getBoundingClientRect();
    const setJoy = (t) => {
      const r = padRect(), cx = r.left + r.width / 2, cy = r.top + r.height / 2, R = r.width / 2;
      let x = (t.clientX - cx) / R, y = (t.clientY - cy) / R;
      const l = Math.hypot(x, y);
      if (l > 1) { x /= l; y /= l; }
      this._setJoy(x, y);
      knob.style.transform = `translate(${x * R * 0.6}px, ${y * R * 0.6}px)`;
    };
    pad?.addEventListener('touchstart', (e) => { const t = e.changedTouches[0]; joyId = t.identifier; setJoy(t); e.preventDefault(); }, { passive: false });
    canvas.addEventListener('touchstart', (e) => {
      const t = e.changedTouches[0];
      lookId = t.identifier; lastX = startX = t.clientX; lastY = startY = t.clientY; startT = performance.now();
      e.preventDefault();
    }, { passive: false });
    addEventListener('touchmove', (e) => {
      for (const t of e.changedTouches) {
        if (t.identifier === joyId) setJoy(t);
        else if (t.identifier === lookId) { this._look((t.clientX - lastX) * 1.6, (t.clientY - lastY) * 1.6); lastX = t.clientX; lastY = t.clientY; }
      }
    }, { passive: true });
    const end = (e) => {
      for (const t of e.changedTouches) {
        if (t.identifier === joyId) { joyId = null; this._setJoy(0, 0); knob.style.transform = ''; }
        if (t.identifier === lookId) {
          lookId = null;
          // A short tap (not a look-drag) grabs or releases.
          if (Math.hypot(t.clientX - startX, t.clientY - startY) < 10 && performance.now() - startT < 300) this.click(t.clientX, t.clientY);
        }
      }
    };
    addEventListener('touchend', end);
    addEventListener('touchcancel', end);
  }

  _setJoy(x, y) {
    const now = performance.now(), ms = Math.max(0, now - Math.max(this.joyT, this.lastT));
    this.joyAcc.x += this.joy.x * ms; this.joyAcc.y += this.joy.y * ms;
    // The dead zone keeps a resting thumb from creeping.
    const on = Math.hypot(x, y) > 0.05;
    this.joy.x = on ? x : 0; this.joy.y = on ? y : 0;
    this.joyT = now;
  }

  _release(code) {
    const down = this.keys.get(code);
    if (down === undefined) return;
    this.keys.delete(code);
    const held = performance.now() - Math.max(down, this.lastT);
    this.tail.set(code, (this.tail.get(code) || 0) + Math.max(0, held));
  }

  /** The share (0..1) of this frame's `ms` that key `code` was down. */
  _share(code, now, ms) {
    const down = this.keys.get(code);
    const held = (down === undefined ? 0 : now - Math.max(down, now - ms)) + (this.tail.get(code) || 0);
    return ms > 0 ? Math.min(1, Math.max(0, held / ms)) : 0;
  }

  /** Per frame (not in VR): apply keys/joystick to the rig. */
  update(dt) {
    const app = this.app, now = performance.now(), ms = dt * 1000;
    const k = (code) => this._share(code, now, ms);
    app.rig.rotation.y += TURN * dt * (k('ArrowLeft') - k('ArrowRight'));
    const held = now - Math.max(this.joyT, now - ms);
    const jx = ms > 0 ? (this.joyAcc.x + this.joy.x * held) / ms : 0;
    const jy = ms > 0 ? (this.joyAcc.y + this.joy.y * held) / ms : 0;
    let fwd = Math.max(k('KeyW'), k('ArrowUp')) - Math.max(k('KeyS'), k('ArrowDown')) - jy;
    let side = k('KeyD') - k('KeyA') + jx;
    this.tail.clear();
    this.joyAcc.x = this.joyAcc.y = 0;
    this.lastT = now;
    const l = Math.hypot(fwd, side);
    if (l > 1) { fwd /= l; side /= l; }
    app.camera.position.set(0, EYE, 0);
    app.camera.rotation.set(this.pitch, 0, 0);
    if (l > 0) {
      const yaw = app.rig.rotation.y;
      _f.set(-Math.sin(yaw), 0, -Math.cos(yaw));
      _r.set(Math.cos(yaw), 0, -Math.sin(yaw));
      _mv.set(0, 0, 0).addScaledVector(_f, fwd * WALK * dt).addScaledVector(_r, side * WALK * dt);
      app.moveRig(_mv);
    }
  }
}
