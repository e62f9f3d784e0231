// "Suggested for you" (SUGGESTIONS pushes in a world, GET /api/recommendations in the lobby)
// and the lobby's events board (GET /api/events: live / starting soon, with RSVP when signed
// in). Each item has a Join/Go button: spaces and events both travel to their world.
import { authHeaders, currentAccount } from './account.js';
import { eventTime } from './ui.js';

const $ = (id) => document.getElementById(id);

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function badge(status) {
  if (status === 'live') return '<b class="badge live">LIVE</b>';
  if (status === 'starting_soon') return '<b class="badge starting_soon">SOON</b>';
  return '';
}

function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? '' : d.toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** One item per recurring event: "lobby/welcome-tour@1796490000" and its next weekly
 * occurrence are the same thing to a person; the earliest (first listed) stays, with a count. */
export function collapseOccurrences(items) {
  const out = [], byKey = new Map();
  for (const it of items) {
    const k = it.kind === 'event' ? String(it.id).split('@')[0] : `space:${it.id}`;
    const seen = byKey.get(k);
    if (seen) { seen.more = (seen.more || 0) + 1; continue; }
    const copy = { ...it };
    byKey.set(k, copy);
    out.push(copy);
  }
  return out;
}

/** Items of /api/recommendations or SUGGESTIONS as <li>s; `here` hides Go for the current world. */
export function suggestionsHtml(items, here = null) {
  if (!items.length) return '<li class="empty">Nothing yet — explore a little.</li>';
  return collapseOccurrences(items).map((it) => `
    <li class="suggestion" data-id="${esc(it.id)}">
      <div><span class="badge">${it.kind === 'event' ? 'event' : 'space'}</span> <b>${esc(it.title)}</b>
        ${it.kind === 'event' && it.start ? `<small>${esc(it.status === 'live' || it.live === true ? eventTime({ ...it, status: 'live' }) : time(it.start))}${it.more ? ' · weekly' : ''}</small>` : ''}</div>
      <small class="reason">${esc(it.reason || '')}</small>
      ${it.world && it.world !== here ? `<button data-go="${esc(it.world)}" aria-label="${it.kind === 'event' ? 'Go to' : 'Join'} ${esc(it.title)}${it.kind === 'event' ? ` in ${esc(it.world)}` : ''}">${it.kind === 'event' ? 'Go' : 'Join'}</button>` : ''}
    </li>`).join('');
}

/** Replace a list's children only when its markup changed (a refresh keeps keyboard focus). */
function setList(ul, html) {
  if (ul.dataset.html === html) return;
  ul.dataset.html = html;
  const focusedGo = ul.contains(document.activeElement) ? document.activeElement.getAttribute('aria-label') : null;
  ul.innerHTML = html;
  if (focusedGo) [...ul.querySelectorAll('button')].find((b) => b.getAttribute('aria-label') === focusedGo)?.focus();
}

export class LobbyBoard {
  /** @param {(world: string) => void} go join a world from the lobby */
  constructor(go, session) {
    this.session = session; // () => the last WELCOME.session or null
    this.events = [];
    for (const id of ['suggested', 'events-board']) {
      $(id).addEventListener('click', (e) => {
        const b = e.target.closest('button');
        if (!b) return;
        if (b.dataset.go) go(b.dataset.go);
        else if (b.dataset.rsvp) this.rsvp(b.dataset.rsvp, b.dataset.going === '1');
      });
    }
  }

  async refresh() {
    await Promise.all([this.refreshSuggestions(), this.refreshEvents()]);
  }

  async refreshSuggestions() {
    try {
      const r = await fetch('/api/recommendations?limit=6', { cache: 'no-store', headers: authHeaders(this.session()) });
      const body = await r.json();
      setList($('suggested').querySelector('ul'), suggestionsHtml(body.items || []));
    } catch (e) { /* the worlds list shows the connection error */ }
  }

  async refreshEvents() {
    try {
      const r = await fetch('/api/events', { cache: 'no-store', headers: authHeaders(null) });
      this.events = await r.json();
    } catch (e) { return; }
    this.renderEvents();
  }

  renderEvents() {
    const signedIn = !!currentAccount();
    const box = $('events-board');
    box.hidden = this.events.length === 0;
    setList(box.querySelector('ul'), collapseOccurrences(this.events.map((ev) => ({ ...ev, id: ev.key, kind: 'event' }))).map((ev) => `
      <li class="event-item" data-key="${esc(ev.key)}">
        <div>${badge(ev.status)} <b>${esc(ev.title)}</b> <small>in ${esc(ev.world)}${ev.host ? ` · with ${esc(ev.host)}` : ''} · ${esc(ev.status === 'live' ? eventTime(ev) : time(ev.start))}${ev.more ? ' · weekly' : ''}</small></div>
        <small>${ev.rsvps ?? 0} going${ev.places_left != null ? ` · ${ev.places_left} places left` : ''}</small>
        <div class="event-buttons">
          ${signedIn ? `<button class="rsvp" data-rsvp="${esc(ev.key)}" data-going="${ev.rsvped ? '0' : '1'}" aria-label="${ev.rsvped ? 'Cancel RSVP for' : 'RSVP for'} ${esc(ev.title)}">${ev.rsvped ? 'Cancel RSVP' : 'RSVP'}</button>` : ''}
          <button data-go="${esc(ev.world)}" aria-label="Join ${esc(ev.title)} in ${esc(ev.world)}">Join</button>
        </div>
      </li>`).join(''));
  }

  async rsvp(key, going) {
    try {
      const r = await fetch(`/api/events/${encodeURIComponent(key)}/rsvp`, { method: going ? 'POST' : 'DELETE', headers: authHeaders(null) });
      if (!r.ok) return;
      const ev = await r.json();
      const i = this.events.findIndex((e) => e.key === key);
      if (i >= 0) this.events[i] = ev;
      this.renderEvents();
    } catch (e) { /* keep the old state */ }
  }
}

/** The small in-world "Suggested for you" panel, fed by SUGGESTIONS (74). */
export class WorldSuggestions {
  constructor(travel) {
    this.el = $('suggest-panel');
    this.el.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-go]');
      if (b) travel(b.dataset.go);
    });
  }

  show(items, here) {
    this.el.hidden = items.length === 0;
    this.el.querySelector('summary').textContent = `Suggested for you (${items.length})`;
    setList(this.el.querySelector('ul'), suggestionsHtml(collapseOccurrences(items).slice(0, 5), here));
  }

  clear() { this.el.hidden = true; }
}
