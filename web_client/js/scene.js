// world_info (docs/worlds.md, server/worldconfig/models.py to_client) -> three.js objects.
// Static shapes that share a geometry and material are merged into one InstancedMesh each
// (a concert hall's 236 seats become a handful of draw calls); grabbable objects stay
// individual meshes because they move. Geometries, materials and glTF files are cached.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { makeLabel } from './labels.js';

const DEG = Math.PI / 180;

// Unit-sized primitives (size [x, y, z] in metres scales them); planes lie flat (normal +y)
// like the ground, so a world stands a canvas up with rotation [90, 0, 0].
const GEOMETRIES = {
  box: () => new THREE.BoxGeometry(1, 1, 1),
  sphere: () => new THREE.SphereGeometry(0.5, 20, 14),
  cylinder: () => new THREE.CylinderGeometry(0.5, 0.5, 1, 20),
  cone: () => new THREE.ConeGeometry(0.5, 1, 16),
  plane: () => new THREE.PlaneGeometry(1, 1).rotateX(-Math.PI / 2),
  torus: () => new THREE.TorusGeometry(0.35, 0.15, 12, 28),
  capsule: () => new THREE.CapsuleGeometry(0.5, 1, 6, 16).scale(1, 0.5, 1),
};
// Ground patterns, drawn here (no downloads): one 128x128 canvas each, near-white so the
// ground's colour tints it, tileable, repeated over the ground with mipmaps. Same mesh, same
// material: no extra draw calls.
const GROUND_METRES = { grass: 4, tiles: 2 }; // metres one copy of the canvas covers
const groundCanvases = new Map();
function groundCanvas(pattern) {
  let c = groundCanvases.get(pattern);
  if (c) return c;
  const N = 128;
  c = document.createElement('canvas');
  c.width = c.height = N;
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(N, N);
  let seed = pattern === 'grass' ? 1234567 : 7654321;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  // Value noise on a lattice that wraps, so the canvas tiles without seams.
  const lattice = (n) => Array.from({ length: n * n }, rand);
  const smooth = (t) => t * t * (3 - 2 * t);
  const noise = (lat, n, x, y) => {
    const fx = (x / N) * n, fy = (y / N) * n;
    const x0 = Math.floor(fx), y0 = Math.floor(fy), tx = smooth(fx - x0), ty = smooth(fy - y0);
    const at = (i, j) => lat[((j % n) * n) + (i % n)];
    const a = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * tx;
    const b = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * tx;
    return a + (b - a) * ty;
  };
  const coarse = lattice(4), fine = lattice(16);
  const tileShade = lattice(2);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      let v;
      if (pattern === 'grass') {
        v = 212 + 30 * noise(coarse, 4, x, y) + 20 * noise(fine, 16, x, y) + 24 * (rand() - 0.5);
      } else { // two by two squares with a thin grout line
        const gx = x % 64, gy = y % 64;
        const grout = gx < 2 || gy < 2;
        v = grout ? 196 : 236 + 14 * tileShade[(y >> 6) * 2 + (x >> 6)] + 8 * noise(fine, 16, x, y) + 6 * (rand() - 0.5);
      }
      const i = (y * N + x) * 4;
      img.data[i] = img.data[i + 1] = img.data[i + 2] = Math.max(0, Math.min(255, v));
      img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  groundCanvases.set(pattern, c);
  return c;
}
function groundTexture(pattern, size) {
  if (!(pattern in GROUND_METRES)) return null;
  const tex = new THREE.CanvasTexture(groundCanvas(pattern));
  tex.wrapS = tex.wrapT = THREE.RepeatWrapping;
  tex.repeat.set(size[0] / GROUND_METRES[pattern], size[1] / GROUND_METRES[pattern]);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.anisotropy = 4;
  return tex;
}

const geometryCache = new Map();
export function sharedGeometry(shape) {
  let g = geometryCache.get(shape);
  if (!g) {
    g = (GEOMETRIES[shape] || GEOMETRIES.box)();
    g.computeBoundingSphere();
    geometryCache.set(shape, g);
  }
  return g;
}

const materialCache = new Map();
export function sharedMaterial(m, shape) {
  const key = JSON.stringify([m.color, m.roughness, m.metalness, m.emissive, m.emissive_intensity, m.opacity, shape === 'plane']);
  let mat = materialCache.get(key);
  if (!mat) {
    mat = new THREE.MeshStandardMaterial({
      color: m.color || '#cccccc',
      roughness: m.roughness ?? 0.8,
      metalness: m.metalness ?? 0,
      emissive: m.emissive || '#000000',
      emissiveIntensity: m.emissive_intensity ?? (m.emissive ? 1 : 0),
      transparent: m.opacity != null && m.opacity < 1,
      opacity: m.opacity ?? 1,
      side: shape === 'plane' ? THREE.DoubleSide : THREE.FrontSide,
    });
    materialCache.set(key, mat);
  }
  return mat;
}

// Stand-in for objects still to be generated: a striped translucent box that cannot be
// mistaken for real content, plus a label with the prompt.
let standInMaterial = null;
function getStandInMaterial() {
  if (standInMaterial) return standInMaterial;
  const c = document.createElement('canvas');
  c.width = c.height = 64;
  const g = c.getContext('2d');
  g.fillStyle = '#ff4fd8';
  g.fillRect(0, 0, 64, 64);
  g.fillStyle = '#2a0030';
  for (let i = -64; i < 64; i += 16) {
    g.beginPath(); g.moveTo(i, 0); g.lineTo(i + 8, 0); g.lineTo(i + 72, 64); g.lineTo(i + 64, 64); g.fill();
  }
  const tex = new THREE.CanvasTexture(c);
  tex.wrapS = tex.wrapT = THREE.RepeatWrapping;
  tex.colorSpace = THREE.SRGBColorSpace;
  standInMaterial = new THREE.MeshBasicMaterial({ map: tex, transparent: true, opacity: 0.55 });
  return standInMaterial;
}

const gltfLoader = new GLTFLoader();
const gltfCache = new Map(); // url -> Promise<THREE.Group>
function loadModel(url, manager) {
  let p = gltfCache.get(url);
  if (!p) {
    p = new Promise((resolve, reject) => {
      manager.itemStart(url);
      gltfLoader.load(url, (g) => { manager.itemEnd(url); resolve(g.scene); },
        undefined, (e) => { manager.itemError(url); manager.itemEnd(url); gltfCache.delete(url); reject(e); });
    });
    gltfCache.set(url, p);
  }
  return p;
}

const _m = new THREE.Matrix4(), _p = new THREE.Vector3(), _q = new THREE.Quaternion(), _s = new THREE.Vector3();

function place(obj, o) {
  obj.position.fromArray(o.position);
  obj.quaternion.fromArray(o.rotation);
}

/**
 * The static world: build(info) returns a World with .root (add to the scene), .grabbables
 * (oid -> Object3D), .portals, .ground, .dispose().
 */
export class World {
  constructor(info, { shadows = false, onProgress = () => {} } = {}) {
    this.info = info;
    this.root = new THREE.Group();
    this.root.name = `world:${info.id}`;
    this.grabbables = new Map();
    this.objectMeshes = new Map(); // oid -> Object3D for every object (tests, picking)
    this.portals = [];
    this.labels = [];
    this.shadows = shadows;
    this.groundY = info.environment?.ground?.y ?? 0;
    this.bounds = info.bounds;
    this.fog = null;
    this.background = null;
    this.pending = 0;
    this.manager = new THREE.LoadingManager();
    this.manager.onProgress = (_url, loaded, total) => onProgress(loaded, total);
    this.envMap = null;
    // Progressive loading: the sky, lights, ground, portals and everything grabbable (the
    // shared objects STATE refers to) now; static scenery in slices over the next frames
    // (step()), so the first frame after WELCOME is drawn in milliseconds, not seconds.
    this.queue = [];
    this.built = []; // oids of deferred single objects built since the last drain
    this._environment(info.environment || {});
    this._objects(info.objects || []);
    this._portals(info.portals || []);
  }

  /** Build queued scenery for up to `budgetMs`; true while some is left. */
  step(budgetMs = 6) {
    const t0 = performance.now();
    while (this.queue.length && performance.now() - t0 < budgetMs) this.queue.shift()();
    return this.queue.length > 0;
  }

  get complete() { return this.queue.length === 0; }

  /** Image-based light from the world's own sky (PMREM), so metal reflects something
   * (dark metal with nothing to reflect is a flat brown blob). */
  _envFromSky(renderer) {
    if (!renderer || this.envMap) return;
    const sky = this.root.getObjectByName('sky');
    const skyScene = new THREE.Scene();
    if (sky) {
      skyScene.add(new THREE.Mesh(sky.geometry, sky.material));
    } else skyScene.background = this.background;
    // A bright band low in the sky stands in for the sun's bounce off the ground.
    const ground = new THREE.Mesh(new THREE.CircleGeometry(400, 16).rotateX(-Math.PI / 2),
      new THREE.MeshBasicMaterial({ color: this.info.environment?.ground?.color || '#444444' }));
    ground.position.y = -5;
    skyScene.add(ground);
    const pmrem = new THREE.PMREMGenerator(renderer);
    // 64 px faces: a sky gradient has no detail to lose, and software GL (tests, weak
    // laptops) takes seconds over the default 256.
    this.envRT = pmrem.fromScene(skyScene, 0, 0.1, 1000, { size: 64 });
    pmrem.dispose();
    ground.geometry.dispose(); ground.material.dispose();
    this.envMap = this.envRT.texture;
  }

  _environment(env) {
    const sky = env.sky || {};
    if (sky.top) {
      // Gradient sky: a big inverted sphere with a 3-stop vertical gradient.
      const mat = new THREE.ShaderMaterial({
        side: THREE.BackSide, depthWrite: false, fog: false,
        uniforms: {
          top: { value: new THREE.Color(sky.top) },
          horizon: { value: new THREE.Color(sky.horizon || sky.top).lerp(new THREE.Color(sky.bottom), sky.horizon ? 0 : 0.5) },
          bottom: { value: new THREE.Color(sky.bottom) },
        },
        vertexShader: 'varying vec3 vDir; void main(){ vDir = normalize(position); vec4 p = projectionMatrix * modelViewMatrix * vec4(position, 1.0); gl_Position = p.xyww; }',
        fragmentShader: `uniform vec3 top; uniform vec3 horizon; uniform vec3 bottom; varying vec3 vDir;
          void main(){ float h = vDir.y; vec3 c = h > 0.0 ? mix(horizon, top, pow(h, 0.6)) : mix(horizon, bottom, pow(-h, 0.5));
          gl_FragColor = vec4(c, 1.0);
          #include <colorspace_fragment>
          }`,
      });
      const dome = new THREE.Mesh(new THREE.SphereGeometry(500, 24, 12), mat);
      dome.frustumCulled = false;
      dome.renderOrder = -1;
      dome.name = 'sky';
      this.root.add(dome);
      this.background = new THREE.Color(sky.horizon || sky.top);
    } else {
      this.background = new THREE.Color(sky.color || '#87ceeb');
    }
    if (env.fog) this.fog = new THREE.Fog(env.fog.color, env.fog.near, env.fog.far);
    const amb = env.ambient || {};
    this.root.add(new THREE.AmbientLight(amb.color || '#ffffff', amb.intensity ?? 0.6));
    // A little sky/ground bounce so unlit sides are not flat black.
    this.root.add(new THREE.HemisphereLight(this.background, env.ground?.color || '#444444', 0.35));
    const b = this.bounds;
    const span = b ? Math.max(b.max[0] - b.min[0], b.max[2] - b.min[2]) : 100;
    for (const d of env.directional || []) {
      const light = new THREE.DirectionalLight(d.color, d.intensity);
      const dir = new THREE.Vector3().fromArray(d.direction).normalize();
      light.position.copy(dir).multiplyScalar(-span);
      light.target.position.set(0, 0, 0);
      if (d.cast_shadow && this.shadows) {
        light.castShadow = true;
        light.shadow.mapSize.set(1024, 1024);
        const cam = light.shadow.camera;
        cam.left = cam.bottom = -span / 2;
        cam.right = cam.top = span / 2;
        cam.near = 0.5; cam.far = span * 2.5;
        light.shadow.bias = -0.0005;
      }
      this.root.add(light, light.target);
    }
    const gr = env.ground;
    if (gr && gr.visible !== false) {
      const size = gr.size || [100, 100];
      const mat = new THREE.MeshStandardMaterial({ color: gr.color, roughness: gr.roughness ?? 1, metalness: 0 });
      const pattern = gr.texture === 'auto' || gr.texture === undefined ? ((gr.roughness ?? 1) >= 1 ? 'grass' : 'tiles') : gr.texture;
      mat.map = groundTexture(pattern, size);
      const ground = new THREE.Mesh(new THREE.PlaneGeometry(size[0], size[1]).rotateX(-Math.PI / 2), mat);
      ground.userData.ownsResources = true; // its own plane, material and texture: freed with the world
      ground.position.set(b ? (b.min[0] + b.max[0]) / 2 : 0, gr.y, b ? (b.min[2] + b.max[2]) / 2 : 0);
      ground.receiveShadow = this.shadows;
      ground.name = 'ground';
      this.ground = ground;
      this.root.add(ground);
    }
  }

  _objects(objects) {
    const batches = new Map(); // "shape|materialKey" -> [objects]
    for (const o of objects) {
      if (o.kind === 'shape' && !o.grabbable) {
        const key = `${o.shape}|${JSON.stringify(o.material || {})}`;
        if (!batches.has(key)) batches.set(key, []);
        batches.get(key).push(o);
      } else if (o.grabbable) {
        this._single(o);
      } else {
        // Entities whose STATE came before they were built are entered then (App drains it).
        this.queue.push(() => { this._single(o); this.built.push(o.id); });
      }
    }
    for (const list of batches.values()) this.queue.push(() => this._batch(list));
  }

  _batch(list) {
    const o0 = list[0];
    const geo = sharedGeometry(o0.shape), mat = sharedMaterial(o0.material || {}, o0.shape);
    if (list.length === 1) { this._single(o0); this.built.push(o0.id); return; }
    const inst = new THREE.InstancedMesh(geo, mat, list.length);
    list.forEach((o, i) => {
      _p.fromArray(o.position); _q.fromArray(o.rotation);
      _s.set(o.size[0] * o.scale[0], o.size[1] * o.scale[1], o.size[2] * o.scale[2]);
      inst.setMatrixAt(i, _m.compose(_p, _q, _s));
    });
    inst.computeBoundingSphere();
    inst.castShadow = inst.receiveShadow = this.shadows;
    inst.name = `batch:${o0.shape}:${list.length}`;
    inst.userData.oids = list.map((o) => o.id);
    for (const o of list) this.objectMeshes.set(o.id, inst);
    this.root.add(inst);
  }

  _single(o) {
    let obj;
    if (o.kind === 'shape') {
      obj = new THREE.Mesh(sharedGeometry(o.shape), sharedMaterial(o.material || {}, o.shape));
      obj.scale.set(o.size[0] * o.scale[0], o.size[1] * o.scale[1], o.size[2] * o.scale[2]);
      obj.castShadow = obj.receiveShadow = this.shadows;
    } else if (o.kind === 'text') {
      obj = makeLabel(o.text, { height: o.font_size || 0.3, color: o.material?.color || '#ffffff', emissive: !!o.material?.emissive });
      obj.scale.multiply(_s.fromArray(o.scale));
    } else if (o.kind === 'model' || (o.generate?.status === 'ready' && o.generate.url)) {
      // A generated placeholder that is ready (WELCOME or WORLD_UPDATE) shows its model.
      const model = o.kind === 'model' ? o.model : o.generate.url;
      obj = new THREE.Group();
      obj.scale.fromArray(o.scale);
      const url = new URL('/' + model.replace(/^\/+/, ''), location.href).href;
      loadModel(url, this.manager).then((scene) => {
        const copy = scene.clone(true); // geometry and materials stay shared with the cache
        copy.traverse((c) => { if (c.isMesh) c.castShadow = c.receiveShadow = this.shadows; });
        if (o.kind !== 'model') {
          // a generated asset stands on the bottom of its stand-in box (the author's surface), its
          // lowest point there whatever the file's origin (older assets had their floor at y = -0.9)
          const low = new THREE.Box3().setFromObject(copy).min.y;
          if (Number.isFinite(low)) copy.position.y = -o.size[1] / 2 - low;
        }
        obj.add(copy);
      }).catch((e) => {
        console.warn(`plaza: could not load ${url}`, e);
        obj.add(this._standIn(o, `missing model: ${model}`));
      });
    } else {
      obj = this._standIn(o, `to be generated: ${o.generate?.prompt || ''}`);
    }
    place(obj, o);
    obj.name = o.id;
    obj.userData.oid = o.id;
    obj.userData.grabbable = !!o.grabbable;
    obj.userData.radius = 0.5 * Math.hypot(o.size[0] * o.scale[0], o.size[1] * o.scale[1], o.size[2] * o.scale[2]);
    this.objectMeshes.set(o.id, obj);
    if (o.grabbable) this.grabbables.set(o.id, obj);
    this.root.add(obj);
  }

  /**
   * An object generated in this instance (`/generate`): not in world_info, its STATE enter
   * carries {oid, model, label}. Loaded through the same GLB cache; the label floats above.
   */
  addGenerated(oid, model, label) {
    const obj = new THREE.Group();
    obj.name = oid;
    obj.userData.oid = oid;
    obj.userData.grabbable = true;
    obj.userData.radius = 0.5;
    obj.userData.generated = true;
    const url = new URL('/' + String(model).replace(/^\/+/, ''), location.href).href;
    loadModel(url, this.manager).then((scene) => {
      const copy = scene.clone(true);
      copy.traverse((c) => { if (c.isMesh) c.castShadow = c.receiveShadow = this.shadows; });
      const box = new THREE.Box3().setFromObject(copy); // before add: in the object's own frame
      if (!box.isEmpty()) { copy.position.y = -box.min.y; box.translate(_p.set(0, -box.min.y, 0)); } // base on the anchor: the server spawns on the surface
      obj.add(copy);
      if (!box.isEmpty()) {
        obj.userData.radius = Math.max(0.2, 0.5 * box.getSize(_p).length());
        if (tag) tag.position.y = box.max.y + 0.15;
      }
    }).catch((e) => {
      console.warn(`plaza: could not load ${url}`, e);
      obj.add(this._standIn({ size: [0.5, 0.5, 0.5], scale: [1, 1, 1] }, `missing model: ${model}`));
    });
    let tag = null;
    if (label) {
      const text = String(label);
      tag = makeLabel(text.length > 60 ? text.slice(0, 57) + '…' : text, { height: 0.08, color: '#ffffff', background: 'rgba(0,0,0,0.55)' });
      tag.position.y = 0.8;
      tag.name = 'label';
      obj.add(tag);
    }
    this.objectMeshes.set(oid, obj);
    this.grabbables.set(oid, obj);
    this.root.add(obj);
    return obj;
  }

  _standIn(o, text) {
    const g = new THREE.Group();
    const box = new THREE.Mesh(sharedGeometry('box'), getStandInMaterial());
    box.scale.set(o.size[0] * o.scale[0], o.size[1] * o.scale[1], o.size[2] * o.scale[2]);
    box.name = 'stand-in';
    g.add(box);
    const label = makeLabel(text.length > 60 ? text.slice(0, 57) + '…' : text, { height: 0.08, color: '#ff4fd8', background: 'rgba(0,0,0,0.6)' });
    label.position.y = box.scale.y / 2 + 0.1;
    g.add(label);
    g.userData.standIn = true;
    return g;
  }

  _portals(portals) {
    const ringGeo = new THREE.TorusGeometry(1, 0.06, 8, 40);
    const discGeo = new THREE.CircleGeometry(1, 40);
    for (const p of portals) {
      const g = new THREE.Group();
      g.position.fromArray(p.position);
      g.rotation.y = (p.yaw_deg || 0) * DEG;
      const ring = new THREE.Mesh(ringGeo, new THREE.MeshBasicMaterial({ color: p.color }));
      ring.scale.setScalar(p.radius);
      const disc = new THREE.Mesh(discGeo, new THREE.MeshBasicMaterial({
        color: p.color, transparent: true, opacity: 0.35, side: THREE.DoubleSide, depthWrite: false,
      }));
      disc.scale.setScalar(p.radius);
      const label = makeLabel(p.label || p.target, { height: 0.28, color: '#ffffff', background: 'rgba(0,0,0,0.45)' });
      label.position.y = p.radius + 0.35;
      // A portal faces its forward (-z turned by yaw_deg, docs/worlds.md); a plane's readable
      // side is +z, so turn the label round to read from where the portal faces...
      label.rotation.y = Math.PI;
      label.material.side = THREE.FrontSide;
      label.name = 'portal-label';
      // ...and give the back its own (unmirrored) copy of the same texture.
      const back = new THREE.Mesh(label.geometry, label.material);
      back.scale.copy(label.scale);
      back.position.copy(label.position);
      back.name = 'portal-label-back';
      g.add(ring, disc, label, back);
      g.name = `portal:${p.id}`;
      this.root.add(g);
      this.portals.push({ ...p, center: new THREE.Vector3().fromArray(p.position), object: g, disc });
    }
  }

  apply(scene, renderer = null) {
    scene.background = this.background;
    scene.fog = this.fog;
    this._envFromSky(renderer);
    scene.environment = this.envMap;
    scene.environmentIntensity = 0.6;
    scene.add(this.root);
  }

  dispose(scene) {
    scene.remove(this.root);
    this.queue.length = 0;
    if (scene.environment === this.envMap) scene.environment = null;
    this.envRT?.dispose();
    // Shared geometries/materials stay cached for the next world; dispose only our own.
    this.root.traverse((o) => {
      if (o.isInstancedMesh) o.dispose();
      if (o.userData.ownsResources) {
        o.geometry?.dispose();
        o.material?.map?.dispose();
        o.material?.dispose();
      }
    });
  }
}
