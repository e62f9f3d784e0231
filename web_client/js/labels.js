// Text as a canvas texture on a plane. Used for world text, portal labels and stand-ins
// (avatar name tags use the atlas in avatars.js instead, to keep them to one draw call).
import * as THREE from 'three';

const PX = 96; // canvas pixels per line of text: sharp at ~1 m reading distance

export function makeLabel(text, { height = 0.3, color = '#ffffff', background = null, emissive = false } = {}) {
  const lines = String(text).split('\n');
  const c = document.createElement('canvas');
  const g = c.getContext('2d');
  const font = `600 ${PX * 0.8}px system-ui, sans-serif`;
  g.font = font;
  const w = Math.ceil(Math.max(...lines.map((l) => g.measureText(l).width)) + PX * 0.4);
  c.width = Math.min(4096, w);
  c.height = PX * lines.length;
  g.font = font;
  if (background) { g.fillStyle = background; g.fillRect(0, 0, c.width, c.height); }
  g.fillStyle = color;
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  lines.forEach((l, i) => g.fillText(l, c.width / 2, PX * (i + 0.5)));
  const tex = new THREE.CanvasTexture(c);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.anisotropy = 4;
  const mat = new THREE.MeshBasicMaterial({ map: tex, transparent: true, side: THREE.DoubleSide, depthWrite: false, fog: !emissive });
  const mesh = new THREE.Mesh(new THREE.PlaneGeometry(1, 1), mat);
  mesh.scale.set((height * c.width) / PX, height * lines.length, 1);
  mesh.userData.ownsResources = true;
  mesh.userData.text = text;
  return mesh;
}
