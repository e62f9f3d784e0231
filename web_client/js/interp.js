// Snapshot interpolation. Each remote entity keeps a small ring of timestamped snapshots
// (server tick time, ms) and is drawn RENDER_DELAY_MS in the past, between two snapshots it
// already has, so that 20 Hz updates look smooth at 72-120 fps. If updates stop (packet
// loss, a stalled tick) positions are extrapolated for at most MAX_EXTRAP_MS, then held.
// Everything is preallocated: sample() writes into a caller-owned array, no garbage.

export const RENDER_DELAY_MS = 100;
// Over TCP a gap usually means "nothing changed" (the server sends no empty STATE), so
// extrapolation is kept short and then eased back to the last known pose.
export const MAX_EXTRAP_MS = 120;
const CAP = 8; // ~400 ms of history at 20 Hz; enough for the delay plus jitter

export class SnapshotBuffer {
  /** @param {number} width floats per snapshot; @param {number[]} quatOffsets where quaternions start */
  constructor(width, quatOffsets) {
    this.width = width;
    this.quats = quatOffsets;
    this.times = new Float64Array(CAP);
    this.values = new Float32Array(CAP * width);
    this.count = 0;
    this.head = 0; // index of the newest snapshot
  }

  clear() { this.count = 0; }

  /** Append a snapshot at time t (ms). Out-of-order or duplicate times replace the newest. */
  push(t, src) {
    if (this.count > 0 && t <= this.times[this.head]) {
      if (t < this.times[this.head]) return; // stale
    } else {
      this.head = (this.head + 1) % CAP;
      if (this.count < CAP) this.count++;
    }
    this.times[this.head] = t;
    const o = this.head * this.width;
    for (let i = 0; i < this.width; i++) this.values[o + i] = src[i];
  }

  newestTime() { return this.count ? this.times[this.head] : -Infinity; }

  /** Write the state at time t into out (length >= width). Returns false when empty. */
  sample(t, out) {
    const n = this.count;
    if (n === 0) return false;
    const w = this.width, times = this.times, vals = this.values;
    const newest = this.head;
    if (n === 1 || t >= times[newest]) {
      // Past the newest snapshot: extrapolate positions linearly for a short while.
      const no = newest * w;
      for (let i = 0; i < w; i++) out[i] = vals[no + i];
      if (n >= 2) {
        const prev = (newest - 1 + CAP) % CAP;
        const dtSnap = times[newest] - times[prev];
        const late = t - times[newest];
        const ahead = late <= MAX_EXTRAP_MS ? late : Math.max(0, 2 * MAX_EXTRAP_MS - late);
        if (dtSnap > 0 && ahead > 0) {
          const k = ahead / dtSnap, po = prev * w;
          for (let i = 0; i < w; i++) if (!this._isQuat(i)) out[i] += (vals[no + i] - vals[po + i]) * k;
        }
      }
      return true;
    }
    // Walk back from the newest to find a <= t < b.
    let b = newest;
    for (let k = 1; k < n; k++) {
      const a = (b - 1 + CAP) % CAP;
      if (times[a] <= t) {
        const f = (t - times[a]) / (times[b] - times[a]);
        this._lerp(a * w, b * w, f, out);
        return true;
      }
      b = a;
    }
    // Older than anything we have: show the oldest.
    const oo = b * w;
    for (let i = 0; i < w; i++) out[i] = vals[oo + i];
    return true;
  }

  _isQuat(i) {
    for (const q of this.quats) if (i >= q && i < q + 4) return true;
    return false;
  }

  _lerp(ao, bo, f, out) {
    const v = this.values, w = this.width;
    for (let i = 0; i < w; i++) out[i] = v[ao + i] + (v[bo + i] - v[ao + i]) * f;
    // Quaternions: normalised lerp along the short arc (close enough to slerp at 20 Hz).
    for (const q of this.quats) {
      let dot = 0;
      for (let i = 0; i < 4; i++) dot += v[ao + q + i] * v[bo + q + i];
      const s = dot < 0 ? -1 : 1;
      let len = 0;
      for (let i = 0; i < 4; i++) {
        out[q + i] = v[ao + q + i] + (s * v[bo + q + i] - v[ao + q + i]) * f;
        len += out[q + i] * out[q + i];
      }
      len = Math.sqrt(len) || 1;
      for (let i = 0; i < 4; i++) out[q + i] /= len;
    }
  }
}

/**
 * Maps local time to the server's tick time base (tick * 1000 / tick_rate). Late packets only
 * ever add delay, so the offset follows early arrivals quickly and late ones slowly.
 */
export class TickClock {
  constructor() { this.offset = 0; this.valid = false; }
  reset() { this.valid = false; }
  observe(tickTimeMs, nowMs) {
    const sample = tickTimeMs - nowMs;
    if (!this.valid) { this.offset = sample; this.valid = true; return; }
    const d = sample - this.offset;
    // A jump of more than a second (server restart, world change) resets the base.
    if (Math.abs(d) > 1000) { this.offset = sample; return; }
    this.offset += d * (d > 0 ? 0.2 : 0.02);
  }
  renderTime(nowMs) { return nowMs + this.offset - RENDER_DELAY_MS; }
}
