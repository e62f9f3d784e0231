// The people list (P, or the "People" button): who is in this instance, how far away, and —
// when the voice module is there (window.plaza.state().voice) — who is muted or speaking.
// Per person: personal mute (hide their chat and bubbles) and block (also hide their
// avatar), both remembered by display name in localStorage; report (REPORT 11, the server
// attaches the world's recent chat; the lines you saw from them go in the reason too); and
// for moderators kick / mute / ban (MODERATE 10). Rows are keyed by entity and updated in
// place, so keyboard focus survives the once-a-second refresh.
import { Msg } from './protocol.js';

const $ = (id) => document.getElementById(id);
const MUTED_KEY = 'plaza.mutedNames', BLOCKED_KEY = 'plaza.blockedNames';

function loadSet(key) {
  try { return new Set(JSON.parse(localStorage.getItem(key) || '[]')); } catch (e) { return new Set(); }
}

/** {muted, speaking} of a person in the voice module's state, whatever its shape (a map by
 * entity id or name, or a list of {id|entity, name, muted, speaking}); null when unknown. */
export function voiceOf(voice, id, name) {
  if (!voice) return null;
  const people = voice.people || voice.peers || voice.participants || null;
  if (!people) return null;
  if (Array.isArray(people)) return people.find((p) => p.id === id || p.entity === id || (p.name && p.name === name)) || null;
  return people[id] || people[name] || null;
}

export class People {
  /** @param {object} app the App (names, avatars, net, selfId, head) */
  constructor(app) {
    this.app = app;
    this.muted = loadSet(MUTED_KEY);
    this.blocked = loadSet(BLOCKED_KEY);
    this.permissions = new Set();
    this.colors = new Map();
    this.recent = new Map(); // name -> last chat lines seen from them (for reports)
    this.panel = $('people');
    this.list = this.panel.querySelector('ul');
    this.button = $('people-toggle');
    this.button.addEventListener('click', () => this.toggle());
    addEventListener('keydown', (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      if (e.code === 'KeyP' && document.body.dataset.mode === 'world') { e.preventDefault(); this.toggle(); }
    });
    this.panel.querySelector('.close').addEventListener('click', () => this.toggle(false));
    this.list.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-act]');
      if (b) this.act(b.dataset.act, Number(b.closest('li').dataset.id), b.closest('li').dataset.name);
    });
    this.timer = 0;
  }

  setWelcome(w) {
    this.permissions = new Set(w.permissions || []);
    this.colors.clear();
    for (const [id, , color] of w.roster || []) this.colors.set(id, color);
    this.render();
  }

  get moderator() { return this.permissions.has('kick') || this.permissions.has('mute') || this.permissions.has('ban'); }

  toggle(open = this.panel.hidden) {
    this.panel.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    clearInterval(this.timer);
    if (open) {
      this.render();
      this.timer = setInterval(() => this.render(), 1000);
      this.list.querySelector('button')?.focus();
    }
  }

  /** Chat from `name` should not be shown (personally muted or blocked). */
  hides(name) { return this.muted.has(name) || this.blocked.has(name); }

  noteChat(name, text) {
    const l = this.recent.get(name) || [];
    l.push(text);
    if (l.length > 5) l.shift();
    this.recent.set(name, l);
  }

  /** Rows: everyone the server told us about (roster + presence), distance when in view. */
  rows(voice = null) {
    const app = this.app;
    const byId = new Map(app.avatars.list.map((a) => [a.id, a]));
    const rows = [];
    for (const [id, name] of app.names) {
      const a = byId.get(id), self = id === app.selfId;
      let dist = null;
      if (a && a.hasPose) dist = Math.hypot(a.out[0] - app.head.p.x, a.out[2] - app.head.p.z);
      const v = voiceOf(voice, id, name);
      rows.push({
        id, name, self, dist,
        color: this.colors.get(id) || a?.color || '#888888',
        voiceMuted: v ? !!v.muted : null,
        speaking: v ? !!v.speaking : null,
        muted: this.muted.has(name), blocked: this.blocked.has(name),
      });
    }
    rows.sort((x, y) => (y.self - x.self) || ((x.dist ?? 1e9) - (y.dist ?? 1e9)) || x.name.localeCompare(y.name));
    return rows;
  }

  render() {
    // The voice module's state, when there is one (plaza.state().voice); never from inside
    // state() itself, which lists people too.
    let voice = null;
    if (!this.panel.hidden) try { voice = window.plaza?.state?.().voice || null; } catch (e) { voice = null; }
    const rows = this.rows(voice);
    this.button.textContent = `People (${rows.length})`;
    if (this.panel.hidden) return;
    const seen = new Set();
    let prev = null;
    for (const r of rows) {
      seen.add(String(r.id));
      let li = this.list.querySelector(`li[data-id="${r.id}"]`);
      if (!li) {
        li = document.createElement('li');
        li.dataset.id = r.id;
        li.innerHTML = '<span class="dot"></span><b class="who"></b> <small class="where"></small> <small class="voice"></small><span class="acts"></span>';
      }
      li.dataset.name = r.name;
      li.querySelector('.dot').style.background = r.color;
      const set = (sel, t) => { const el = li.querySelector(sel); if (el.textContent !== t) el.textContent = t; };
      set('.who', r.self ? `${r.name} (you)` : r.name);
      set('.where', r.dist === null ? (r.self ? '' : 'out of view') : `${Math.round(r.dist)} m`);
      // Voice columns: filled by the voice module when it is there, else left blank.
      set('.voice', r.speaking ? '🔊 speaking' : r.voiceMuted ? '🔇 mic off' : '');
      const acts = r.self ? [] : [
        [r.muted ? 'unmute-me' : 'mute-me', r.muted ? 'Unmute' : 'Mute', r.muted ? `Show chat from ${r.name} again` : `Hide chat from ${r.name} (only for you)`],
        [r.blocked ? 'unblock' : 'block', r.blocked ? 'Unblock' : 'Block', r.blocked ? `Unblock ${r.name}` : `Block ${r.name}: hide them and their chat (only for you)`],
        ['report', 'Report', `Report ${r.name} to the moderators`],
        ...(this.moderator ? [['mod-mute', 'Mute chat', `Moderator: mute ${r.name}'s chat for everyone`], ['kick', 'Kick', `Moderator: remove ${r.name} from this world`], ['ban', 'Ban', `Moderator: ban ${r.name} from this world`]] : []),
      ];
      const key = acts.map((a) => a[0]).join();
      const box = li.querySelector('.acts');
      if (box.dataset.key !== key) {
        const focused = box.contains(document.activeElement) ? document.activeElement.dataset.act : null;
        box.dataset.key = key;
        box.replaceChildren(...acts.map(([act, label, aria]) => {
          const b = document.createElement('button');
          b.type = 'button'; b.dataset.act = act; b.textContent = label; b.setAttribute('aria-label', aria);
          if (act === 'kick' || act === 'ban' || act === 'mod-mute') b.className = 'mod';
          return b;
        }));
        if (focused) box.querySelector(`[data-act="${focused.replace(/^un/, '')}"], [data-act="un${focused}"], [data-act="${focused}"]`)?.focus();
      }
      const want = prev ? prev.nextElementSibling : this.list.firstElementChild;
      if (want !== li) this.list.insertBefore(li, want);
      prev = li;
    }
    for (const li of [...this.list.children]) if (!seen.has(li.dataset.id)) li.remove();
  }

  _save() {
    localStorage.setItem(MUTED_KEY, JSON.stringify([...this.muted]));
    localStorage.setItem(BLOCKED_KEY, JSON.stringify([...this.blocked]));
  }

  act(act, id, name) {
    const app = this.app;
    switch (act) {
      case 'mute-me': this.muted.add(name); break;
      case 'unmute-me': this.muted.delete(name); break;
      case 'block': this.blocked.add(name); app.avatars.setHidden?.(id, true); break;
      case 'unblock': this.blocked.delete(name); app.avatars.setHidden?.(id, false); break;
      case 'report': this.report(id, name); return;
      case 'mod-mute': this.moderate('mute', id, name); return;
      case 'kick': this.moderate('kick', id, name); return;
      case 'ban': this.moderate('ban', id, name); return;
      default: return;
    }
    this._save();
    app.ui.toast(act === 'mute-me' ? `${name}'s chat is hidden (only for you).`
      : act === 'block' ? `${name} is blocked (only for you).` : `${name} is shown again.`);
    this.render();
  }

  report(id, name) {
    const why = prompt(`Report ${name}: what happened? (the recent chat is attached)`, '');
    if (why === null) return;
    const lines = (this.recent.get(name) || []).map((l) => `"${l}"`).join(' ');
    const reason = `${why.trim() || 'no reason given'}${lines ? ` — they said: ${lines}` : ''}`.slice(0, 500);
    this.app.net.send([Msg.REPORT, id, reason]);
  }

  moderate(action, id, name) {
    const reason = prompt(`${action} ${name}: reason (shown in the audit log)`, '');
    if (reason === null) return;
    this.app.net.send([Msg.MODERATE, action, id, { reason: reason.slice(0, 500) }]);
    this.app.ui.toast(`${action === 'mute' ? 'Muting' : action === 'kick' ? 'Kicking' : 'Banning'} ${name}…`);
  }

  /** Is entity `id` someone we blocked (their avatar is hidden)? */
  isBlockedId(id) { return this.blocked.has(this.app.names.get(id)); }
}
