// Walking into world geometry: the static objects' colliders (docs/worlds.md: `collider` box /
// sphere / mesh; `auto` is sphere for spheres, box for the rest, none for text) as footprints
// on the ground — rotated rectangles and circles — for the objects a person's body would hit
// (between knee and head height). The walker is a circle; moves slide along what they touch.
// Pure: no three.js, so it is cheap to run every frame and easy to test.

const BODY_R = 0.25; // metres around the head's floor point
const STEP_UP = 0.35; // things lower than this (kerbs, rugs) are walked over
const HEAD = 1.9;

function yawOf(q) {
  // quaternion [x, y, z, w] -> rotation about +y (the part that turns a footprint)
  const [x, y, z, w] = q;
  return Math.atan2(2 * (w * y + x * z), 1 - 2 * (y * y + x * x));
}

/** Footprints of `objects` (world_info.objects) standing on `groundY`. */
export function footprints(objects, groundY = 0) {
  const out = [];
  for (const o of objects || []) {
    const kind = o.collider || 'auto';
    if (kind === 'none' || o.grabbable || o.kind === 'text') continue;
    const sx = o.size[0] * o.scale[0], sy = o.size[1] * o.scale[1], sz = o.size[2] * o.scale[2];
    const bottom = o.position[1] - sy / 2 - groundY, top = o.position[1] + sy / 2 - groundY;
    if (top < STEP_UP || bottom > HEAD) continue; // walked over, or overhead (signs, lamps' tops)
    const sphere = kind === 'sphere' || (kind === 'auto' && o.shape === 'sphere');
    const round = sphere || o.shape === 'cylinder' || o.shape === 'cone' || o.shape === 'capsule';
    const tilted = Math.abs(o.rotation[0]) > 0.05 || Math.abs(o.rotation[2]) > 0.05;
    if (round && !tilted) out.push({ id: o.id, x: o.position[0], z: o.position[2], r: Math.max(sx, sz) / 2 });
    else if (o.shape === 'plane' && !tilted) continue; // a flat plane lies on the ground
    else out.push({ id: o.id, x: o.position[0], z: o.position[2], hx: sx / 2, hz: sz / 2, yaw: yawOf(o.rotation) });
  }
  return out;
}

/** Push the point (x, z) out of every footprint; returns [x, z, id of the last hit or null]. */
export function resolve(fps, x, z, r = BODY_R) {
  let hit = null;
  for (let pass = 0; pass < 2; pass++) {
    for (const f of fps) {
      const dx = x - f.x, dz = z - f.z;
      if (f.r !== undefined) {
        const d = Math.hypot(dx, dz), min = f.r + r;
        if (d < min) {
          const nx = d > 1e-6 ? dx / d : 1, nz = d > 1e-6 ? dz / d : 0;
          x = f.x + nx * min; z = f.z + nz * min; hit = f.id;
        }
        continue;
      }
      // Into the box's frame (rotation about +y by yaw: local = R(-yaw) * world).
      const c = Math.cos(f.yaw), s = Math.sin(f.yaw);
      const lx = c * dx - s * dz, lz = s * dx + c * dz;
      const qx = Math.max(-f.hx, Math.min(f.hx, lx)), qz = Math.max(-f.hz, Math.min(f.hz, lz));
      let ox = lx - qx, oz = lz - qz;
      const d = Math.hypot(ox, oz);
      if (d >= r) continue;
      let nlx, nlz;
      if (d > 1e-6) { ox /= d; oz /= d; nlx = qx + ox * r; nlz = qz + oz * r; } else {
        // Inside: out through the nearest side.
        const px = f.hx - Math.abs(lx), pz = f.hz - Math.abs(lz);
        if (px < pz) { nlx = Math.sign(lx || 1) * (f.hx + r); nlz = lz; } else { nlx = lx; nlz = Math.sign(lz || 1) * (f.hz + r); }
      }
      x = f.x + c * nlx + s * nlz; z = f.z - s * nlx + c * nlz; hit = f.id;
    }
  }
  return [x, z, hit];
}

/** Is the floor point (x, z) inside something (for VR teleport targets)? */
export function blocked(fps, x, z, r = BODY_R) {
  const [nx, nz] = resolve(fps, x, z, r);
  return Math.hypot(nx - x, nz - z) > 1e-4;
}
