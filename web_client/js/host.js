// The host panel (desktop DOM): this world's events that we may run — all of them when our
// role's permissions include the host actions (moderators, owners), or the ones we host
// (WELCOME.user is "a:<event.host>") while they are live or starting soon. Each button sends
// HOST [12, event_key, action, args] (docs/protocol.md). Also the pinned-message banner.
import { Msg } from './protocol.js';

const HOST_ACTIONS = ['start_event', 'spotlight', 'gather'];
const $ = (id) => document.getElementById(id);

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export class HostPanel {
  /** @param {(msg: any[]) => boolean} send */
  constructor(send, toast) {
    this.send = send;
    this.toast = toast;
    this.el = $('host-panel');
    this.list = this.el.querySelector('.host-events');
    this.user = '';
    this.perms = new Set();
    this.events = [];
    this.el.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-act]');
      if (b) this._act(b.dataset.key, b.dataset.act, b.closest('li[data-key]'));
    });
    this.el.querySelector('.host-toggle').addEventListener('click', () => { this.el.classList.toggle('collapsed'); });
  }

  /** From WELCOME (after every join and TRAVEL). */
  setWelcome(w) {
    this.user = w.user || '';
    this.perms = new Set(w.permissions || []);
    this.events = (w.events || []).map((ev) => ({ ...ev, live_state: typeof ev.live_state === 'object' && ev.live_state ? { ...ev.live_state } : {} }));
    this.pinned(w.pinned || null);
    this.render();
  }

  clear() { this.events = []; this.perms = new Set(); this.pinned(null); this.render(); }

  canHost(ev) {
    if (HOST_ACTIONS.every((a) => this.perms.has(a))) return true;
    return this.user === `a:${ev.host}` && (ev.status === 'live' || ev.status === 'starting_soon');
  }

  /** NOTICE kind 5 {event, world, title, status, live}: keep the statuses (and so the buttons) current. */
  eventNotice(data) {
    const ev = this.events.find((e) => e.key === data.event);
    if (!ev || typeof data.status !== 'string') return;
    ev.status = data.status;
    ev.started = data.live === true;
    this.render();
  }

  pinned(text) {
    const el = $('pinned');
    el.hidden = !text;
    el.querySelector('span').textContent = text || '';
  }

  visible() { return !this.el.hidden; }

  render() {
    // Live / starting-soon events, and (moderators) the next scheduled one to start early.
    let scheduled = 0;
    const mine = this.events.filter((ev) => this.canHost(ev) && (ev.status !== 'scheduled' || scheduled++ === 0));
    this.el.hidden = mine.length === 0;
    this.list.innerHTML = mine.map((ev) => `
      <li data-key="${esc(ev.key)}">
        <div><b>${esc(ev.title)}</b> <span class="badge ${esc(ev.status)}">${esc(ev.status === 'starting_soon' ? 'soon' : ev.status)}</span></div>
        <div class="host-buttons">
          <button data-act="start" data-key="${esc(ev.key)}">Start</button>
          <button data-act="end" data-key="${esc(ev.key)}">End</button>
          <button data-act="spotlight" data-key="${esc(ev.key)}">Spotlight me</button>
          <button data-act="gather" data-key="${esc(ev.key)}">Gather</button>
          <button data-act="mute_chat" data-key="${esc(ev.key)}">${ev.live_state.chat_muted ? 'Unmute chat' : 'Mute chat'}</button>
        </div>
        <div class="host-pin"><input maxlength="500" placeholder="Message to pin (empty: unpin)"><button data-act="pin" data-key="${esc(ev.key)}">Pin</button></div>
      </li>`).join('');
  }

  _act(key, act, li) {
    const ev = this.events.find((e) => e.key === key);
    if (!ev) return;
    let args = {};
    if (act === 'spotlight') args = { ids: ['me'] };
    else if (act === 'mute_chat') {
      ev.live_state.chat_muted = !ev.live_state.chat_muted;
      args = { muted: ev.live_state.chat_muted };
    } else if (act === 'pin') {
      const text = li.querySelector('.host-pin input').value.trim();
      args = { text: text || null };
    }
    if (!this.send([Msg.HOST, key, act, args])) { this.toast('Not connected.'); return; }
    const done = { start: 'Starting…', end: 'Ending…', spotlight: 'You are in the spotlight.', gather: 'Gathering everyone at the stage.',
      mute_chat: ev.live_state.chat_muted ? 'Chat muted.' : 'Chat unmuted.', pin: args.text ? 'Pinned.' : 'Unpinned.' }[act];
    this.toast(done);
    if (act === 'mute_chat') this.render();
  }
}
