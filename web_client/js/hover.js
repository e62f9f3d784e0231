// Hover highlight: a thin box around the grabbable object a click (desktop: under the mouse
// or the crosshair) or a controller (VR: touching it or along its ray) would take now. One
// Box3Helper (one draw call), re-fitted every other frame; nothing when holding something.
import * as THREE from 'three';

const _ndc = new THREE.Vector2(), _ray = new THREE.Raycaster();
const REACH_M = 5.5;

export class Hover {
  constructor(app) {
    this.app = app;
    this.box = new THREE.Box3();
    this.helper = new THREE.Box3Helper(this.box, 0xffd84a);
    this.helper.name = 'hover-highlight';
    this.helper.visible = false;
    this.helper.material.depthTest = false;
    this.helper.renderOrder = 15;
    app.scene.add(this.helper);
    this.target = null;
    this.mouse = null; // last mouse position (CSS px) when the pointer is not locked
    this.n = 0;
    const canvas = app.renderer.domElement;
    canvas.addEventListener('mousemove', (e) => { this.mouse = document.pointerLockElement === canvas ? null : [e.clientX, e.clientY]; });
    canvas.addEventListener('mouseleave', () => { this.mouse = null; });
  }

  _desktop() {
    const app = this.app, el = app.renderer.domElement;
    if (this.mouse) _ndc.set((this.mouse[0] / el.clientWidth) * 2 - 1, -(this.mouse[1] / el.clientHeight) * 2 + 1);
    else if (document.pointerLockElement === el) _ndc.set(0, 0);
    else return null; // touch screens and an idle mouse: nothing to hover
    _ray.setFromCamera(_ndc, app.camera);
    _ray.far = REACH_M;
    const hits = _ray.intersectObjects(app.objects.grabbableObjects(), true);
    for (const h of hits) {
      let o = h.object;
      while (o && !o.userData.grabbable) o = o.parent;
      if (o) return o;
    }
    return null;
  }

  update(xr) {
    const app = this.app;
    if (++this.n % 2) return;
    let t = null;
    if (app.world && !app.grab.held && !app.grab.pending) {
      if (xr) {
        for (const side of ['right', 'left']) {
          const c = app.xr.controller(side);
          if (c && c.userData.source && (t = app.grab.pick(c))) break;
        }
      } else t = this._desktop();
    }
    this.target = t;
    this.helper.visible = !!t;
    if (t) this.box.setFromObject(t).expandByScalar(0.03);
  }

  get oid() { return this.target ? this.target.userData.oid : null; }
}
