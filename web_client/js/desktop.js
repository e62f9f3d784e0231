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
    this.keys = new Set();
    this.pitch = 0;
    this.joy = { x: 0, y: 0 };
    this.dragging = null;
    // Where a desktop-held object hangs: in front of the eyes, moved with the view.
    this.holdPoint = new THREE.Object3D();
    this.holdPoint.name = 'desktop-hold-point';
    app.camera.add(this.holdPoint);
    const canvas = app.renderer.domElement;
    addEventListener('keydown', (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      this.keys.add(e.code);
      // preventDefault: else this same Enter, now in the focused box, submits the empty form
      // (which blurs it again) and the next keys walk instead of typing.
      if (e.code === 'Enter' || e.code === 'NumpadEnter') { e.preventDefault(); this.keys.delete(e.code); app.ui.focusChat(); }
    });
    addEventListener('keyup', (e) => this.keys.delete(e.code));
    addEventListener('blur', () => this.keys.clear());
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
      this.joy.x = x; this.joy.y = y;
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
        if (t.identifier === joyId) { joyId = null; this.joy.x = this.joy.y = 0; knob.style.transform = ''; }
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

  /** Per frame (not in VR): apply keys/joystick to the rig; allocation-free. */
  update(dt) {
    const app = this.app, k = this.keys;
    if (k.has('ArrowLeft')) app.rig.rotation.y += TURN * dt;
    if (k.has('ArrowRight')) app.rig.rotation.y -= TURN * dt;
    let fwd = (k.has('KeyW') || k.has('ArrowUp') ? 1 : 0) - (k.has('KeyS') || k.has('ArrowDown') ? 1 : 0) - this.joy.y;
    let side = (k.has('KeyD') ? 1 : 0) - (k.has('KeyA') ? 1 : 0) + this.joy.x;
    const l = Math.hypot(fwd, side);
    if (l > 1) { fwd /= l; side /= l; }
    app.camera.position.set(0, EYE, 0);
    app.camera.rotation.set(this.pitch, 0, 0);
    if (l > 0.05) {
      const yaw = app.rig.rotation.y;
      _f.set(-Math.sin(yaw), 0, -Math.cos(yaw));
      _r.set(Math.cos(yaw), 0, -Math.sin(yaw));
      _mv.set(0, 0, 0).addScaledVector(_f, fwd * WALK * dt).addScaledVector(_r, side * WALK * dt);
      app.moveRig(_mv);
    }
  }
}
