// DOM user interface: the lobby (worlds from /api/worlds with live occupancy and upcoming
// events, display name remembered in localStorage), the in-world HUD (connection status,
// loading bar, chat panel, toasts, VR availability message).
const $ = (id) => document.getElementById(id);

const NAME_KEY = 'plaza.name', COLOR_KEY = 'plaza.color';

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function when(iso) {
  const d = new Date(iso);
  return d.toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export class UI {
  constructor({ onJoin, onLeave, onChat, onEnterVR, onSmoothMove, onLobby }) {
    this.onJoin = onJoin;
    this.onLobby = onLobby;
    this.onChat = onChat;
    this.refreshTimer = 0;
    const name = $('name');
    name.value = localStorage.getItem(NAME_KEY) || '';
    $('color').value = localStorage.getItem(COLOR_KEY) || '#4fa3ff';
    name.addEventListener('change', () => localStorage.setItem(NAME_KEY, name.value.trim()));
    $('color').addEventListener('change', () => localStorage.setItem(COLOR_KEY, $('color').value));
    // Enter in the name field must not submit (reload) the page. Here, not an inline
    // onsubmit: the Content-Security-Policy allows no inline handlers.
    $('who').addEventListener('submit', (e) => e.preventDefault());
    $('leave').addEventListener('click', onLeave);
    $('chat-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = $('chat-input').value.trim();
      if (t) onChat(t);
      $('chat-input').value = '';
      $('chat-input').blur();
    });
    $('enter-vr').addEventListener('click', onEnterVR);
    const smooth = $('smooth-move');
    smooth.checked = localStorage.getItem('plaza.smoothMove') === '1';
    smooth.addEventListener('change', () => { localStorage.setItem('plaza.smoothMove', smooth.checked ? '1' : '0'); onSmoothMove(smooth.checked); });
    $('worlds').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-world]');
      if (b) this._join(b.dataset.world);
    });
  }

  displayName() {
    let n = $('name').value.trim();
    if (!n) {
      n = `Guest-${Math.floor(1000 + Math.random() * 9000)}`;
      $('name').value = n;
    }
    localStorage.setItem(NAME_KEY, n);
    return n.slice(0, 32);
  }

  color() { return $('color').value; }
  setName(n) { $('name').value = n; localStorage.setItem(NAME_KEY, n); }

  _join(world) {
    this.onJoin(world, this.displayName(), this.color());
  }

  async showLobby() {
    document.body.dataset.mode = 'lobby';
    this.onLobby?.(); // suggestions and the events board (refreshed every 30 s)
    clearInterval(this.boardTimer);
    this.boardTimer = setInterval(() => this.onLobby?.(), 30000);
    await this.refreshWorlds();
    clearInterval(this.refreshTimer);
    // Live occupancy: cheap JSON, refreshed while the lobby is visible.
    this.refreshTimer = setInterval(() => this.refreshWorlds(), 5000);
  }

  async refreshWorlds() {
    let worlds;
    try {
      const r = await fetch('/api/worlds', { cache: 'no-store' });
      worlds = await r.json();
    } catch (e) {
      $('worlds').innerHTML = '<p class="error">Could not reach the server. Retrying…</p>';
      return;
    }
    worlds.sort((a, b) => (a.id === 'lobby' ? -1 : b.id === 'lobby' ? 1 : b.occupancy - a.occupancy || a.name.localeCompare(b.name)));
    $('worlds').innerHTML = worlds.map((w) => `
      <article class="world" data-id="${esc(w.id)}">
        <header><h2>${esc(w.name)}</h2><span class="occ" title="people here now">${w.occupancy} / ${w.capacity}</span></header>
        <p>${esc(w.description)}</p>
        <ul class="tags">${(w.tags || []).map((t) => `<li>${esc(t)}</li>`).join('')}</ul>
        ${(w.events || []).length ? `<ul class="events">${w.events.slice(0, 3).map((ev) => `
          <li>${ev.live ? '<b class="live">LIVE</b> ' : ''}<time datetime="${esc(ev.start)}">${esc(when(ev.start))}</time> — ${esc(ev.title)}${ev.host ? ` <small>with ${esc(ev.host)}</small>` : ''}</li>`).join('')}</ul>` : ''}
        <button data-world="${esc(w.id)}">Join ${esc(w.name)}</button>
      </article>`).join('');
  }

  showWorld(info) {
    clearInterval(this.refreshTimer);
    clearInterval(this.boardTimer);
    document.body.dataset.mode = 'world';
    $('world-name').textContent = info.name;
    document.title = `${info.name} — Plaza`;
  }

  status(state, text) {
    const el = $('status');
    el.dataset.state = state;
    el.textContent = text;
  }

  loading(loaded, total) {
    const el = $('loading');
    el.hidden = total === 0 || loaded >= total;
    el.querySelector('progress').max = total;
    el.querySelector('progress').value = loaded;
    el.querySelector('span').textContent = `Loading world… ${loaded}/${total}`;
  }

  xrMessage(text) {
    $('xr-message').textContent = text || '';
    $('xr-message').hidden = !text;
    $('enter-vr').hidden = !!text;
  }

  chat(name, text, kind = 'msg') {
    const li = document.createElement('li');
    li.className = kind;
    if (kind === 'msg') {
      const b = document.createElement('b');
      b.textContent = name + ': ';
      li.append(b, document.createTextNode(text));
    } else li.textContent = text;
    const log = $('chat-log');
    log.append(li);
    while (log.children.length > 100) log.firstChild.remove();
    log.scrollTop = log.scrollHeight;
  }

  clearChat() { $('chat-log').innerHTML = ''; }
  focusChat() { if (document.body.dataset.mode === 'world') $('chat-input').focus(); }

  /** A short message; with `action` ({label, run}) a button too, and it stays longer. */
  toast(text, action = null) {
    const el = $('toast');
    el.querySelector('span').textContent = text;
    const b = el.querySelector('button');
    b.hidden = !action;
    b.textContent = action ? action.label : '';
    b.onclick = action ? () => { el.hidden = true; action.run(); } : null;
    el.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { el.hidden = true; }, action ? 10000 : 2500);
  }
}
