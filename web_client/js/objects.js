// Shared (grabbable) objects: their server state (STATE kind 1) drives the meshes that
// scene.js built, through the same snapshot interpolation as avatars. The one this client
// holds is driven locally by grab.js instead.
import { SnapshotBuffer } from './interp.js';
import { POS_UNIT_M } from './protocol.js';

const _tmp = new Float32Array(7);

class Tracked {
  constructor(eid, oid, obj) {
    this.eid = eid; this.oid = oid; this.obj = obj;
    this.buf = new SnapshotBuffer(7, [3]);
    this.out = new Float32Array(7);
    this.holder = 0;
    this.local = false;
  }
}

export class SharedObjects {
  constructor() { this.reset(null, {}); }

  reset(world, oidToEid) {
    this.world = world;
    this.byEid = new Map();
    this.list = [];
    this.oidToEid = new Map(Object.entries(oidToEid || {}));
    this._grabbables = world ? [...world.grabbables.values()] : [];
  }

  grabbableObjects() { return this._grabbables; }
  eidFor(oid) { return this.oidToEid.get(oid) || 0; }

  enter(ent, t) {
    const oid = ent.info.oid;
    let obj = this.world && this.world.objectMeshes.get(oid);
    if (!obj && this.world && typeof ent.info.model === 'string') {
      obj = this.world.addGenerated(oid, ent.info.model, ent.info.label);
      this._grabbables.push(obj);
    }
    if (!obj || obj.isInstancedMesh) return; // static part of a batch: nothing moves it
    this.oidToEid.set(oid, ent.id);
    let tr = this.byEid.get(ent.id);
    if (!tr) {
      tr = new Tracked(ent.id, oid, obj);
      this.byEid.set(ent.id, tr);
      this.list.push(tr);
    }
    tr.buf.clear();
    this.push(ent.id, ent.values, t);
  }

  push(eid, v, t) {
    const tr = this.byEid.get(eid);
    if (!tr) return;
    _tmp[0] = v[0] * POS_UNIT_M; _tmp[1] = v[1] * POS_UNIT_M; _tmp[2] = v[2] * POS_UNIT_M;
    const n = Math.hypot(v[3], v[4], v[5], v[6]) || 1;
    _tmp[3] = v[3] / n; _tmp[4] = v[4] / n; _tmp[5] = v[5] / n; _tmp[6] = n === 1 && v[6] === 0 ? 1 : v[6] / n;
    tr.buf.push(t, _tmp);
    tr.holder = v[7];
  }

  // Out of view: the object keeps its last known pose (there is nothing better to show).
  leave(_eid) {}

  setLocallyHeld(eid, on) {
    const tr = this.byEid.get(eid);
    if (!tr) return;
    tr.local = on;
    if (!on) tr.buf.clear(); // do not rewind to where it was 100 ms ago; wait for the server
  }

  update(renderTime) {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const tr = list[i];
      if (tr.local || !tr.buf.sample(renderTime, tr.out)) continue;
      const o = tr.out;
      tr.obj.position.set(o[0], o[1], o[2]);
      tr.obj.quaternion.set(o[3], o[4], o[5], o[6]);
    }
  }

  snapshot(selfId) {
    const r = (x) => Math.round(x * 10000) / 10000;
    return this.list.map((tr) => ({
      id: tr.eid, oid: tr.oid,
      p: tr.obj.position.toArray().map(r), q: tr.obj.quaternion.toArray().map(r),
      heldBy: tr.local ? selfId : (tr.holder || null),
    }));
  }
}
