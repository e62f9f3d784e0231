// Grabbing shared objects: ask the server (GRAB), wait for its answer (GRAB_RESULT), then
// drive the object from a "hand" (an XR controller or the desktop hold point), stream
// OBJECT_MOVE at the input rate and RELEASE with the hand's recent velocity as a throw.
import * as THREE from 'three';
import { Msg, ErrorName } from './protocol.js';

const NEAR_GRAB_M = 0.12; // extra reach around an object's bounding sphere
const RAY_GRAB_M = 5.5; // the server refuses beyond 6 m from the head
const HISTORY = 6;

const _inv = new THREE.Matrix4(), _m = new THREE.Matrix4(), _p = new THREE.Vector3();
const _q = new THREE.Quaternion(), _s = new THREE.Vector3(), _v = new THREE.Vector3();
const _ray = new THREE.Raycaster();

export class Grab {
  constructor(app) {
    this.app = app;
    this.pending = null; // {eid, hand, name}
    this.held = null; // {eid, obj, hand, offset: Matrix4}
    this.offset = new THREE.Matrix4();
    this.histP = Array.from({ length: HISTORY }, () => new THREE.Vector3());
    this.histT = new Float64Array(HISTORY);
    this.histN = 0;
    this.sendAccum = 0;
    this.movePose = [0, 0, 0, 0, 0, 0, 1];
    this.moveMsg = [Msg.OBJECT_MOVE, 0, this.movePose];
  }

  /** Find the grabbable object nearest to `hand` (touching it, else along its ray) and ask for it. */
  tryGrab(hand, label, rayOrigin = null, rayDir = null) {
    if (this.held || this.pending) return false;
    const best = this.pick(hand, rayOrigin, rayDir);
    if (!best) return false;
    const eid = this.app.objects.eidFor(best.userData.oid);
    if (!eid) return false;
    this.pending = { eid, hand, obj: best, label };
    this.app.net.send([Msg.GRAB, eid]);
    return true;
  }

  /** The grabbable `hand` would take now (touching it, else along its ray), or null. Also
   * what the hover highlight shows. */
  pick(hand, rayOrigin = null, rayDir = null) {
    const app = this.app;
    hand.updateMatrixWorld(true);
    hand.getWorldPosition(_p);
    let best = null, bestD = Infinity;
    for (const obj of app.objects.grabbableObjects()) {
      obj.getWorldPosition(_v);
      const d = _v.distanceTo(_p) - (obj.userData.radius || 0.2);
      if (d < NEAR_GRAB_M && d < bestD) { best = obj; bestD = d; }
    }
    if (!best) {
      if (rayOrigin) _ray.set(rayOrigin, rayDir);
      else {
        hand.getWorldQuaternion(_q);
        _ray.set(_p, _v.set(0, 0, -1).applyQuaternion(_q));
      }
      _ray.far = RAY_GRAB_M;
      const hits = _ray.intersectObjects(app.objects.grabbableObjects(), true);
      for (const h of hits) {
        let o = h.object;
        while (o && !o.userData.grabbable) o = o.parent;
        if (o) { best = o; break; }
      }
    }
    return best;
  }

  grabResult(eid, granted, code) {
    const p = this.pending;
    if (!p || p.eid !== eid) return;
    this.pending = null;
    if (!granted) {
      const why = { HELD_BY_OTHER: 'someone else is holding it', FORBIDDEN: 'too far away', NOT_GRABBABLE: 'it cannot be picked up' }[ErrorName[code]] || ErrorName[code];
      this.app.ui.toast(`Can't grab: ${why}`);
      return;
    }
    // Keep the object where it is relative to the hand: offset = hand⁻¹ · object.
    p.hand.updateMatrixWorld(true);
    p.obj.updateMatrixWorld(true);
    this.offset.copy(_inv.copy(p.hand.matrixWorld).invert()).multiply(p.obj.matrixWorld);
    this.held = { eid, obj: p.obj, hand: p.hand, label: p.label };
    this.histN = 0;
    this.app.objects.setLocallyHeld(eid, true);
  }

  releaseIfHeldBy(hand) {
    if (this.held && this.held.hand === hand) this.release();
    else if (this.pending && this.pending.hand === hand) this.pending = null; // answer will be ignored
  }

  release() {
    const h = this.held;
    if (!h) return;
    this.held = null;
    const v = this._velocity(_v);
    this._pose(h.obj);
    this.app.net.send([Msg.RELEASE, h.eid, this.movePose.slice(), [v.x, v.y, v.z]]);
    this.app.objects.setLocallyHeld(h.eid, false);
  }

  /** Lost the object (reconnect, world change): forget it without telling the server. */
  drop() {
    if (this.held) this.app.objects.setLocallyHeld(this.held.eid, false);
    this.held = this.pending = null;
  }

  _pose(obj) {
    obj.updateMatrixWorld(true);
    obj.matrixWorld.decompose(_p, _q, _s);
    const a = this.movePose;
    a[0] = _p.x; a[1] = _p.y; a[2] = _p.z; a[3] = _q.x; a[4] = _q.y; a[5] = _q.z; a[6] = _q.w;
  }

  _velocity(out) {
    // Average velocity over the last ~100 ms of samples (one frame alone is too noisy).
    const n = Math.min(this.histN, HISTORY);
    if (n < 2) return out.set(0, 0, 0);
    const newest = (this.histN - 1) % HISTORY, oldest = (this.histN - n) % HISTORY;
    const dt = (this.histT[newest] - this.histT[oldest]) / 1000;
    if (dt <= 0) return out.set(0, 0, 0);
    out.subVectors(this.histP[newest], this.histP[oldest]).divideScalar(dt);
    if (out.length() > 20) out.setLength(20);
    return out;
  }

  /** Per frame: move the held object with the hand; stream OBJECT_MOVE at the input rate. */
  update(dt, now) {
    const h = this.held;
    if (!h) return;
    h.hand.updateMatrixWorld(true);
    _m.multiplyMatrices(h.hand.matrixWorld, this.offset);
    _m.decompose(h.obj.position, h.obj.quaternion, _s);
    h.obj.updateMatrixWorld(true);
    const i = this.histN % HISTORY;
    this.histP[i].copy(h.obj.position);
    this.histT[i] = now;
    this.histN++;
    this.sendAccum += dt;
    if (this.sendAccum >= 1 / this.app.inputRate) {
      this.sendAccum = 0;
      this._pose(h.obj);
      this.moveMsg[1] = h.eid;
      this.app.net.send(this.moveMsg);
    }
  }
}
