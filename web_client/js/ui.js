// DOM user interface: the lobby (worlds from /api/worlds with live occupancy and upcoming
// events, display name remembered in localStorage), the in-world HUD (connection status,
// loading bar, chat panel, toasts, VR availability message).
import { AVATAR_ACCESSORIES, AVATAR_LOOKS } from './protocol.js';

const $ = (id) => document.getElementById(id);

const NAME_KEY = 'plaza.name', COLOR_KEY = 'plaza.color', LOOK_KEY = 'plaza.look', ACCESSORY_KEY = 'plaza.accessory';
export const LOOK_LABELS = { classic: 'Classic', robot: 'Robot', fox: 'Fox', ghost: 'Ghost' };
export const ACCESSORY_LABELS = { none: 'None', hat: 'Top hat', glasses: 'Glasses', headphones: 'Headphones' };
const AVATAR_KEYS = { look: [LOOK_KEY, AVATAR_LOOKS], accessory: [ACCESSORY_KEY, AVATAR_ACCESSORIES] };
// Thumbstick comfort options (VR): the HUD's checkboxes and the wrist menu's Settings page.
const COMFORT_KEYS = { move: ['plaza.smoothMove', 'smooth-move'], turn: ['plaza.smoothTurn', 'smooth-turn'] };

/** A radio group (arrow keys move the choice, a tap picks one) for one of the protocol's lists,
 * preselected from localStorage. `onChange(value)` on every change (it stores the choice). */
function choiceGroup(box, key, names, labels, onChange) {
  const saved = localStorage.getItem(key);
  const current = names.includes(saved) ? saved : names[0];
  box.insertAdjacentHTML('beforeend', names.map((n) =>
    `<label class="chip"><input type="radio" name="${key}-${box.id}" value="${n}"${n === current ? ' checked' : ''}><span>${esc(labels[n] || n)}</span></label>`).join(''));
  box.addEventListener('change', (e) => {
    if (!(e.target instanceof HTMLInputElement)) return;
    onChange(e.target.value);
  });
}

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function when(iso) {
  const d = new Date(iso);
  return d.toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** "5 min", "2 h 10 min": how long ago `iso` (or Unix seconds) was. */
export function since(start, now = Date.now()) {
  const t = typeof start === 'number' ? start * 1000 : new Date(start).getTime();
  const min = Math.max(0, Math.round((now - t) / 60000));
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60), m = min % 60;
  return m ? `${h} h ${m} min ago` : `${h} h ago`;
}

/** An event's time for people: "live now · started 12 min ago" or its local start time. */
export function eventTime(ev) {
  const live = ev.live === true || ev.status === 'live' || (ev.live && typeof ev.live === 'object' && ev.status === 'live');
  if (live) return `live now · started ${since(ev.start)}`;
  return when(typeof ev.start === 'number' ? ev.start * 1000 : ev.start);
}

/** True on phones and tablets: touch is the main input (the help text and joystick follow it). */
/** A world card's picture (decorative: the card's heading names the world). Always the
 * placeholder underneath — the world's initial on a colour from its id — and the image over it
 * once it has loaded, so a missing or broken thumbnail never shows a broken-image icon.
 * Only touched when the URL changes (cards are updated in place). */
function setThumb(box, w) {
  const url = typeof w.thumbnail === 'string' && w.thumbnail.startsWith('/') ? w.thumbnail : '';
  if (box.dataset.url === url && box.dataset.name === w.name) return;
  box.dataset.url = url;
  box.dataset.name = w.name;
  let h = 0;
  for (const c of w.id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  box.style.setProperty('--hue', String(h % 360));
  box.querySelector('span').textContent = [...(w.name || w.id).trim()][0]?.toUpperCase() || '?';
  box.querySelector('img')?.remove();
  box.classList.remove('loaded');
  if (!url) return;
  const img = document.createElement('img');
  img.alt = '';
  img.width = 320;
  img.height = 180;
  img.decoding = 'async';
  img.addEventListener('load', () => box.classList.add('loaded'));
  img.addEventListener('error', () => img.remove());
  img.src = url;
  box.append(img);
}

export function touchFirst() {
  return matchMedia('(pointer: coarse)').matches || (navigator.maxTouchPoints > 0 && !matchMedia('(pointer: fine)').matches);
}

// Consecutive join/leave notices (nothing else said in between) within this long of each
// other are one line ("Ada, Bo and 3 others joined").
const PRESENCE_MERGE_MS = 60000;

export class UI {
  constructor({ onJoin, onLeave, onChat, onEnterVR, onSmoothMove, onSmoothTurn, onLobby, onAvatar }) {
    this.onJoin = onJoin;
    this.onAvatar = onAvatar;
    this.onComfort = { move: onSmoothMove, turn: onSmoothTurn };
    this.onLobby = onLobby;
    this.onChat = onChat;
    this.refreshTimer = 0;
    const name = $('name');
    name.value = localStorage.getItem(NAME_KEY) || '';
    $('color').value = localStorage.getItem(COLOR_KEY) || '#4fa3ff';
    name.addEventListener('change', () => localStorage.setItem(NAME_KEY, name.value.trim()));
    $('color').addEventListener('change', () => localStorage.setItem(COLOR_KEY, $('color').value));
    // Look and accessory: in the lobby before joining, and in the world's "Avatar" panel
    // (a change there rejoins the same instance: HELLO is the only place they travel), and on
    // the VR wrist menu's Settings page: all three go through setAvatar().
    for (const id of ['look', 'hud-look']) choiceGroup($(id), LOOK_KEY, AVATAR_LOOKS, LOOK_LABELS, (v) => this.setAvatar('look', v));
    for (const id of ['accessory', 'hud-accessory']) choiceGroup($(id), ACCESSORY_KEY, AVATAR_ACCESSORIES, ACCESSORY_LABELS, (v) => this.setAvatar('accessory', v));
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
    $('chat-input').addEventListener('keydown', (e) => { if (e.key === 'Escape') $('chat-input').blur(); });
    if (touchFirst()) $('help').textContent = 'Left stick to walk · drag to look · tap an object to grab, tap again to throw · tap the chat box to talk';
    this.presenceLine = null; // {li, joined: [], left: [], t}
    $('enter-vr').addEventListener('click', onEnterVR);
    for (const [kind, [key, id]] of Object.entries(COMFORT_KEYS)) {
      const box = $(id);
      box.checked = localStorage.getItem(key) === '1';
      box.addEventListener('change', () => this.setComfort(kind, box.checked));
    }
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

  /** HELLO's avatar: {look, accessory} as chosen (remembered in localStorage). */
  avatar() {
    const pick = (key, names) => (names.includes(localStorage.getItem(key)) ? localStorage.getItem(key) : names[0]);
    return { look: pick(LOOK_KEY, AVATAR_LOOKS), accessory: pick(ACCESSORY_KEY, AVATAR_ACCESSORIES) };
  }

  /** Pick a look or accessory (`kind` 'look' | 'accessory'): stored, shown in both radio
   * groups, and sent (onAvatar: a rejoin while in a world). Unknown values are ignored. */
  setAvatar(kind, value) {
    const [key, names] = AVATAR_KEYS[kind] || [];
    if (!key || !names.includes(value)) return;
    localStorage.setItem(key, value);
    this._syncAvatar();
    this.onAvatar?.();
  }

  /** Smooth (true) or the default (move: teleport, turn: snap) for the thumbsticks. */
  comfort(kind) { return localStorage.getItem(COMFORT_KEYS[kind][0]) === '1'; }

  setComfort(kind, on) {
    const [key, id] = COMFORT_KEYS[kind];
    localStorage.setItem(key, on ? '1' : '0');
    $(id).checked = on;
    this.onComfort[kind]?.(on);
  }

  /** Both copies of each group (lobby, HUD) show the stored choice. */
  _syncAvatar() {
    const a = this.avatar();
    for (const el of document.querySelectorAll('#look input, #hud-look input')) el.checked = el.value === a.look;
    for (const el of document.querySelectorAll('#accessory input, #hud-accessory input')) el.checked = el.value === a.accessory;
  }
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

  /** The world cards, updated in place: a card per world id, its text nodes rewritten only
   * when they change (keyboard focus stays on its button; screen readers are not made to
   * re-read the list: only the "n worlds" summary is a live region). */
  _renderWorlds(worlds) {
    const box = $('worlds');
    box.querySelector(':scope > p')?.remove();
    const seen = new Set();
    let prev = null;
    for (const w of worlds) {
      seen.add(w.id);
      let card = box.querySelector(`article.world[data-id="${CSS.escape(w.id)}"]`);
      if (!card) {
        card = document.createElement('article');
        card.className = 'world';
        card.dataset.id = w.id;
        card.innerHTML = '<div class="thumb" aria-hidden="true"><span></span></div><header><h2></h2><span class="occ" title="people here now"></span></header><p class="desc"></p><ul class="tags"></ul><ul class="events"></ul><button type="button"></button>';
        card.querySelector('button').dataset.world = w.id;
      }
      const set = (sel, text) => { const el = card.querySelector(sel); if (el.textContent !== text) el.textContent = text; };
      set('h2', w.name);
      setThumb(card.querySelector('.thumb'), w);
      set('.occ', `${w.occupancy} / ${w.capacity}`);
      card.querySelector('.occ').setAttribute('aria-label', `${w.occupancy} of ${w.capacity} people here now`);
      set('.desc', w.description || '');
      const tags = (w.tags || []).join('\u0000');
      const tl = card.querySelector('.tags');
      if (tl.dataset.v !== tags) { tl.dataset.v = tags; tl.replaceChildren(...(w.tags || []).map((t) => Object.assign(document.createElement('li'), { textContent: t }))); }
      const evs = (w.events || []).slice(0, 3);
      const evKey = JSON.stringify(evs.map((ev) => [ev.title, ev.host, ev.start, ev.status, eventTime(ev)]));
      const el = card.querySelector('.events');
      el.hidden = evs.length === 0;
      if (el.dataset.v !== evKey) {
        el.dataset.v = evKey;
        el.innerHTML = evs.map((ev) => `<li>${ev.status === 'live' || ev.live === true ? '<b class="live">LIVE</b> ' : ''}<time datetime="${esc(typeof ev.start === 'number' ? new Date(ev.start * 1000).toISOString() : ev.start)}">${esc(eventTime(ev))}</time> — ${esc(ev.title)}${ev.host ? ` <small>with ${esc(ev.host)}</small>` : ''}</li>`).join('');
      }
      set('button', `Join ${w.name}`);
      // Where it belongs in the order (occupancy changes it); moving keeps the node (and focus).
      const want = prev ? prev.nextElementSibling : box.firstElementChild;
      if (want !== card) {
        const focused = card.contains(document.activeElement) ? document.activeElement : null;
        box.insertBefore(card, want);
        focused?.focus();
      }
      prev = card;
    }
    for (const card of [...box.querySelectorAll('article.world')]) if (!seen.has(card.dataset.id)) card.remove();
    const sum = $('worlds-status');
    const text = `${worlds.length} worlds, ${worlds.reduce((n, w) => n + w.occupancy, 0)} people in them`;
    if (sum && sum.textContent !== text) sum.textContent = text;
  }

  async refreshWorlds() {
    let worlds;
    try {
      const r = await fetch('/api/worlds', { cache: 'no-store' });
      worlds = await r.json();
    } catch (e) {
      if (!$('worlds').querySelector('article')) $('worlds').innerHTML = '<p class="error">Could not reach the server. Retrying…</p>';
      const sum = $('worlds-status');
      if (sum) sum.textContent = 'Could not reach the server. Retrying…';
      return;
    }
    worlds.sort((a, b) => (a.id === 'lobby' ? -1 : b.id === 'lobby' ? 1 : b.occupancy - a.occupancy || a.name.localeCompare(b.name)));
    this._renderWorlds(worlds);
  }

  /** The lobby overlay goes (display: none); a button in it that had keyboard focus (the
   * "Join" just pressed with Enter) must not keep it, or the next Enter presses it again
   * instead of opening chat. */
  hideLobby() {
    document.body.dataset.mode = 'world';
    const el = document.activeElement;
    if (el instanceof HTMLElement && $('lobby').contains(el)) el.blur();
  }

  showWorld(info) {
    clearInterval(this.refreshTimer);
    clearInterval(this.boardTimer);
    this.hideLobby();
    $('world-name').textContent = info.name;
    document.title = `${info.name} — Plaza`;
  }

  status(state, text) {
    const el = $('status');
    el.dataset.state = state;
    el.textContent = text;
    // "reconnecting in 2.0 s": the SDK says it once; count it down so it is seen to move.
    clearInterval(this.countdown);
    const m = /in (\d+(?:\.\d+)?) s/.exec(text);
    if (state === 'reconnecting' && m) {
      const until = performance.now() + Number(m[1]) * 1000;
      this.countdown = setInterval(() => {
        const left = Math.max(0, (until - performance.now()) / 1000);
        el.textContent = text.replace(m[0], `in ${left.toFixed(1)} s`);
        this.onStatusText?.(el.textContent);
        if (left <= 0) clearInterval(this.countdown);
      }, 100);
    }
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
    // Smooth move is a thumbstick option: no headset (or a phone's), no stick, no checkbox.
    $('smooth-move-opt').hidden = !!text || touchFirst();
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

  /** Join/leave notices: arrivals close together share one line that is updated in place. */
  presence(joined, name) {
    const now = performance.now();
    let p = this.presenceLine;
    const log = $('chat-log');
    if (!p || now - p.t > PRESENCE_MERGE_MS || log.lastElementChild !== p.li) {
      const li = document.createElement('li');
      li.className = 'notice presence';
      log.append(li);
      while (log.children.length > 100) log.firstChild.remove();
      p = this.presenceLine = { li, joined: [], left: [], t: now };
    }
    p.t = now;
    const [add, drop] = joined ? [p.joined, p.left] : [p.left, p.joined];
    const i = drop.indexOf(name);
    if (i >= 0) drop.splice(i, 1); // came and went within the window: not worth a word
    else add.push(name);
    const names = (a) => (a.length <= 3 ? a.join(', ').replace(/, ([^,]*)$/, ' and $1') : `${a.slice(0, 2).join(', ')} and ${a.length - 2} others`);
    const parts = [];
    if (p.joined.length) parts.push(`${names(p.joined)} joined`);
    if (p.left.length) parts.push(`${names(p.left)} left`);
    p.li.textContent = parts.join(' · ');
    p.li.hidden = parts.length === 0;
    log.scrollTop = log.scrollHeight;
    return p.li.textContent;
  }

  clearChat() { $('chat-log').innerHTML = ''; this.presenceLine = null; }
  focusChat() { if (document.body.dataset.mode === 'world') $('chat-input').focus(); }

  /** A short message; with `action` ({label, run}) a button too, and it stays longer. */
  toast(text, action = null, kind = 'info') {
    const el = $('toast');
    el.dataset.kind = kind;
    el.querySelector('span').textContent = text;
    const b = el.querySelector('button');
    b.hidden = !action;
    b.textContent = action ? action.label : '';
    b.onclick = action ? () => { el.hidden = true; action.run(); } : null;
    el.hidden = false;
    clearTimeout(this.toastTimer);
    // Errors stay long enough to be read (a sentence at a newcomer's pace).
    this.toastTimer = setTimeout(() => { el.hidden = true; }, action ? 10000 : kind === 'error' ? 8000 : 2500);
  }
}
