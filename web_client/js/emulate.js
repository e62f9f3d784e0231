// Test-only (?emulate): Meta's IWER pretends to be a Quest 3, so the WebXR code paths run in
// a desktop or headless browser. Chromium exposes its own navigator.xr on http://127.0.0.1,
// hence forceInstall.
export async function installEmulator() {
  const { XRDevice, metaQuest3 } = await import('iwer');
  const device = new XRDevice(metaQuest3);
  device.installRuntime({ forceInstall: true });
  window.xrDevice = device;
}
