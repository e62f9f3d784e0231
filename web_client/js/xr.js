// WebXR: session entry (local-floor, optional hand tracking), controllers with their real
// models (profiles served locally from node_modules, so it works offline on a LAN),
// teleport arc + target, snap turn (or smooth turn), optional smooth locomotion (both chosen in
// the HUD or on the wrist menu's Settings page), grab with squeeze/trigger;
// the left controller's Y button mutes/unmutes the mic (as the wrist menu's Mute does), X held
// talks with push-to-talk.
import * as THREE from 'three';
import { XRControllerModelFactory } from 'three/addons/webxr/XRControllerModelFactory.js';
import { XRHandModelFactory } from 'three/addons/webxr/XRHandModelFactory.js';

const SNAP_DEG = 30;
const SMOOTH_TURN_DEG_S = 90; // at full stick deflection
const SMOOTH_SPEED = 2.0; // m/s, well under the server's 10 m/s limit
const ARC_POINTS = 40;
const ARC_SPEED = 8; // m/s launch speed of the teleport arc
const G = 9.81;
// xr-standard gamepad buttons: 4 = X (left) / A (right), 5 = Y (left) / B (right)
const BTN_X = 4, BTN_Y = 5;

const _v = new THREE.Vector3(), _v2 = new THREE.Vector3(), _dir = new THREE.Vector3();
const _q = new THREE.Quaternion(), _m = new THREE.Matrix4(), _up = new THREE.Vector3(0, 1, 0);

/** What the page should say about VR support; null when VR can be offered. */
export async function xrAvailability() {
  if (!('xr' in navigator)) {
    if (!window.isSecureContext) {
      return 'VR needs HTTPS: open this page over https:// (run plaza serve --https) or on localhost.';
    }
    return 'WebXR is not available in this browser. Desktop: WASD + mouse. Phone: joystick + drag.';
  }
  try {
    if (await navigator.xr.isSessionSupported('immersive-vr')) return null;
  } catch (e) { /* fall through */ }
  return 'No VR headset found: you can still walk around with WASD + mouse (or touch).';
}

export class XRControls {
  constructor(app) {
    this.app = app;
    const { renderer, rig } = app;
    this.renderer = renderer;
    this.rig = rig;
    this.session = null;
    this.smoothMove = localStorage.getItem('plaza.smoothMove') === '1';
    this.smoothTurn = localStorage.getItem('plaza.smoothTurn') === '1';
    this.controllers = [];
    const modelFactory = new XRControllerModelFactory();
    modelFactory.setPath('/node_modules/@webxr-input-profiles/assets/dist/profiles');
    const handFactory = new XRHandModelFactory();
    const rayGeo = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(0, 0, 0), new THREE.Vector3(0, 0, -1)]);
    const rayMat = new THREE.LineBasicMaterial({ color: 0xffffff, transparent: true, opacity: 0.5 });
    for (let i = 0; i < 2; i++) {
      const c = renderer.xr.getController(i);
      c.userData.index = i;
      c.userData.handedness = '';
      c.userData.stick = { turnReady: true, aiming: false, x: false, y: false };
      const ray = new THREE.Line(rayGeo, rayMat);
      ray.scale.z = 0.6;
      c.add(ray);
      c.userData.ray = ray;
      c.addEventListener('connected', (e) => {
        c.userData.handedness = e.data.handedness;
        c.userData.source = e.data;
        ray.visible = !e.data.hand;
      });
      c.addEventListener('disconnected', () => { c.userData.source = null; c.userData.handedness = ''; });
      c.addEventListener('selectstart', () => this._press(c, 'trigger'));
      c.addEventListener('selectend', () => this._releasePress(c, 'trigger'));
      c.addEventListener('squeezestart', () => this._press(c, 'squeeze'));
      c.addEventListener('squeezeend', () => this._releasePress(c, 'squeeze'));
      rig.add(c);
      const grip = renderer.xr.getControllerGrip(i);
      grip.add(modelFactory.createControllerModel(grip));
      rig.add(grip);
      const hand = renderer.xr.getHand(i);
      hand.add(handFactory.createHandModel(hand, 'spheres'));
      rig.add(hand);
      this.controllers.push(c);
    }
    this._teleportVisuals(app.scene);
  }

  controller(handedness) {
    for (let i = 0; i < this.controllers.length; i++) if (this.controllers[i].userData.handedness === handedness) return this.controllers[i];
    return null;
  }

  _teleportVisuals(scene) {
    const geo = new THREE.BufferGeometry();
    this.arcPositions = new Float32Array(ARC_POINTS * 3);
    geo.setAttribute('position', new THREE.BufferAttribute(this.arcPositions, 3).setUsage(THREE.DynamicDrawUsage));
    this.arc = new THREE.Line(geo, new THREE.LineBasicMaterial({ color: 0x66ccff }));
    this.arc.frustumCulled = false;
    this.arc.visible = false;
    this.target = new THREE.Mesh(new THREE.RingGeometry(0.22, 0.3, 32).rotateX(-Math.PI / 2),
      new THREE.MeshBasicMaterial({ color: 0x66ccff, transparent: true, opacity: 0.85, depthTest: false }));
    this.target.visible = false;
    this.target.renderOrder = 5;
    this.targetValid = false;
    scene.add(this.arc, this.target);
  }

  /** Start an immersive-vr session; call from a click handler (needs user activation). */
  async enter() {
    const session = await navigator.xr.requestSession('immersive-vr', {
      optionalFeatures: ['local-floor', 'bounded-floor', 'hand-tracking', 'layers'],
    });
    this.renderer.xr.setReferenceSpaceType('local-floor');
    await this.renderer.xr.setSession(session);
    this.session = session;
    session.addEventListener('end', () => {
      this.session = null;
      this.app.onXREnd();
    });
    this.app.onXRStart();
  }

  exit() { this.session?.end(); }

  _press(c, button) {
    // Trigger on the chat panel presses a quick phrase instead of grabbing.
    if (button === 'trigger' && this.app.vrChat?.click(c)) return;
    this.app.grab.tryGrab(c, c.userData.handedness || `hand${c.userData.index}`);
  }

  _releasePress(c) {
    this.app.grab.releaseIfHeldBy(c);
  }

  /** Per-frame work: thumbsticks (teleport, snap or smooth turn, smooth move). Allocation-free. */
  update(dt) {
    this.arc.visible = false;
    this.target.visible = false;
    for (let i = 0; i < this.controllers.length; i++) {
      const c = this.controllers[i];
      const src = c.userData.source;
      const gp = src && src.gamepad;
      if (!gp) continue;
      const st = c.userData.stick;
      const hand = c.userData.handedness;
      if (hand === 'left' && gp.buttons.length > BTN_Y) this._voiceButtons(gp.buttons, st);
      if (gp.axes.length < 4) continue;
      const x = gp.axes[2], y = gp.axes[3];
      if (hand === 'left' && this.smoothMove) {
        if (Math.abs(x) > 0.15 || Math.abs(y) > 0.15) this._smooth(x, y, dt);
        continue;
      }
      // Turning: smooth (as fast as the stick is pushed sideways, past a dead zone), or a snap
      // on a sideways flick (the stick must come back to centre before the next).
      if (this.smoothTurn) {
        if (Math.abs(x) > 0.2 && Math.abs(y) < 0.5) this._turn(-Math.sign(x) * ((Math.abs(x) - 0.2) / 0.8) * SMOOTH_TURN_DEG_S * dt);
      } else if (Math.abs(x) > 0.7 && st.turnReady && Math.abs(y) < 0.5) {
        this._turn(x > 0 ? -SNAP_DEG : SNAP_DEG);
        st.turnReady = false;
      } else if (Math.abs(x) < 0.3) st.turnReady = true;
      // Teleport: push forward to aim, let go to jump.
      if (y < -0.6) {
        st.aiming = true;
        this._aim(c);
      } else if (st.aiming && Math.abs(y) < 0.3) {
        st.aiming = false;
        if (this.targetValid) this.app.requestTeleport(this.target.position);
      } else if (st.aiming) {
        this._aim(c);
      }
    }
  }

  /** Left Y: mute toggle (on its press, like the wrist menu's Mute); left X: push-to-talk. */
  _voiceButtons(buttons, st) {
    const y = buttons[BTN_Y].pressed, x = buttons[BTN_X].pressed;
    if (y && !st.y) this.app.vrChat?.press('mute'); // the same action, and the menu's label follows
    if (x !== st.x) this.app.voice?.setTalkHeld(x);
    st.x = x; st.y = y;
  }

  _turn(deg) {
    // Rotate the rig about the head so the view turns in place (the head does not move,
    // so the server's speed check is not tripped).
    const head = this.app.headPosition(_v);
    this.rig.position.sub(head);
    this.rig.position.applyAxisAngle(_up, deg * Math.PI / 180);
    this.rig.position.add(head);
    this.rig.rotateY(deg * Math.PI / 180);
    this.rig.updateMatrixWorld(true);
  }

  _smooth(x, y, dt) {
    const cam = this.renderer.xr.getCamera();
    cam.getWorldDirection(_dir);
    _dir.y = 0;
    if (_dir.lengthSq() < 1e-6) return;
    _dir.normalize();
    _v2.crossVectors(_dir, _up); // right
    _v.set(0, 0, 0).addScaledVector(_dir, -y * SMOOTH_SPEED * dt).addScaledVector(_v2, x * SMOOTH_SPEED * dt);
    this.app.moveRig(_v);
  }

  _aim(c) {
    // Ballistic arc from the controller; the first point under the floor is the target.
    c.updateMatrixWorld(true);
    c.getWorldPosition(_v);
    c.getWorldQuaternion(_q);
    _dir.set(0, 0, -1).applyQuaternion(_q).multiplyScalar(ARC_SPEED);
    const floor = this.app.world ? this.app.world.groundY : 0;
    const a = this.arcPositions;
    let hit = -1;
    for (let i = 0; i < ARC_POINTS; i++) {
      const t = i * 0.05;
      const px = _v.x + _dir.x * t, py = _v.y + _dir.y * t - 0.5 * G * t * t, pz = _v.z + _dir.z * t;
      if (hit < 0 && py <= floor && i > 0) {
        // Interpolate to the floor crossing between this point and the previous one.
        const py0 = a[(i - 1) * 3 + 1], f = (py0 - floor) / (py0 - py);
        const tx = a[(i - 1) * 3] + (px - a[(i - 1) * 3]) * f, tz = a[(i - 1) * 3 + 2] + (pz - a[(i - 1) * 3 + 2]) * f;
        this.target.position.set(tx, floor + 0.01, tz);
        hit = i;
      }
      a[i * 3] = hit >= 0 ? this.target.position.x : px;
      a[i * 3 + 1] = hit >= 0 ? floor : py;
      a[i * 3 + 2] = hit >= 0 ? this.target.position.z : pz;
    }
    this.arc.geometry.attributes.position.needsUpdate = true;
    // A target inside world geometry (the fountain, a bench) moves to the nearest free spot.
    if (hit >= 0) this.app.freeSpot(this.target.position);
    this.targetValid = hit >= 0 && this.app.insideBounds(this.target.position);
    this.arc.material.color.setHex(this.targetValid ? 0x66ccff : 0xff5555);
    this.arc.visible = true;
    this.target.visible = this.targetValid;
  }
}
