// Entry point. Order matters: the test-only ?emulate hook must install the emulated headset
// before any module looks at navigator.xr, so the app is imported only afterwards.
const params = new URLSearchParams(location.search);

if (params.has('emulate')) {
  const { installEmulator } = await import('./emulate.js');
  await installEmulator();
}

const { App } = await import('./app.js');
const app = new App(params);

// Read-only introspection for tests and debugging (documented in docs/client.md).
window.plaza = Object.freeze({
  state: () => app.state(),
  stats: () => ({ ...app.stats }),
  screen: (p) => app.screen(p),
  version: 1,
});
// Test hook, only with ?test: the app itself, and fake avatars for frame-budget measurements.
if (params.has('test')) {
  const { AVATAR_LOOKS, AVATAR_ACCESSORIES } = await import('./protocol.js');
  const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6'];
  window.plazaTest = {
    app,
    /** n local-only avatars on a grid 2-9 m in front of the camera, facing it. */
    fakeAvatars(n) {
      const h = app.head.p, yaw = app.rig.rotation.y;
      const fx = -Math.sin(yaw), fz = -Math.cos(yaw), rx = Math.cos(yaw), rz = -Math.sin(yaw);
      const q = [0, Math.round(Math.sin((yaw + Math.PI) / 2) * 4095), 0, Math.round(Math.cos((yaw + Math.PI) / 2) * 4095)];
      const t = app.clock.renderTime(performance.now());
      for (let i = 0; i < n; i++) {
        const row = Math.floor(i / 10), col = (i % 10) - 4.5;
        const d = 2 + row * 1.6, x = h.x + fx * d + rx * col * 0.8, z = h.z + fz * d + rz * col * 0.8;
        const mm = (v) => Math.round(v * 1000);
        const vals = [mm(x), mm(1.6), mm(z), ...q, mm(x - rx * 0.25), mm(1.1), mm(z - rz * 0.25), ...q,
          mm(x + rx * 0.25), mm(1.1), mm(z + rz * 0.25), ...q, 0];
        const avatar = { look: AVATAR_LOOKS[i % AVATAR_LOOKS.length], accessory: AVATAR_ACCESSORIES[Math.floor(i / AVATAR_LOOKS.length) % AVATAR_ACCESSORIES.length] };
        app.avatars.enter(100000 + i, `Fake ${i + 1}`, PALETTE[i % PALETTE.length], vals, t, avatar);
      }
    },
  };
}

// Deep link /w/<world>[?name=NAME] joins directly; / shows the lobby (?name= fills its name field).
const m = location.pathname.match(/^\/w\/([^/]+)\/?$/);
if (params.get('name')) app.ui.setName(params.get('name').slice(0, 32));
if (m) {
  let world = null;
  try { world = decodeURIComponent(m[1]); } catch (e) { /* bad percent-encoding: said below */ }
  // ?invite=TOKEN: an invite link to a private world (POST /api/worlds/<w>/invites).
  if (world) app.join(world, app.ui.displayName(), app.ui.color(), params.get('invite'));
  else {
    history.replaceState(null, '', '/');
    app.ui.showLobby();
    app.ui.toast('That link is not a valid world address. Pick a world from the list.', null, 'error');
  }
} else {
  app.ui.showLobby();
}
