// Signing in: a minimal account form in the lobby. POST /api/signin (or /api/accounts to
// create one) returns {user, token}; the token goes where net.js keeps the guest token, so the
// next HELLO sends it and the server knows us as the account (roles, hosting, RSVPs).
import { TOKEN_KEY } from './net.js';

const ACCOUNT_KEY = 'plaza.account'; // the signed-in account's user name (token in TOKEN_KEY)

/** {user, token} while signed in, else null. */
export function currentAccount() {
  const user = localStorage.getItem(ACCOUNT_KEY), token = localStorage.getItem(TOKEN_KEY);
  return user && token ? { user, token } : null;
}

export function signOut() {
  localStorage.removeItem(ACCOUNT_KEY);
  localStorage.removeItem(TOKEN_KEY); // the next HELLO makes us a fresh guest
}

/** Headers for personal HTTP endpoints: Bearer when signed in, the live session when joined. */
export function authHeaders(session) {
  const h = {};
  const acct = currentAccount();
  if (acct) h.Authorization = `Bearer ${acct.token}`;
  if (session) h['X-Plaza-Session'] = session;
  return h;
}

const ERRORS = {
  bad_credentials: 'Wrong user name or password.',
  user_name_taken: 'That user name is taken.',
  sign_in_rate_limited: 'Too many tries — wait a minute.',
};

/** Sign in (or create the account when `create`); resolves to the user name, throws Error(text). */
export async function signIn(user, password, create = false) {
  let r, body;
  try {
    r = await fetch(create ? '/api/accounts' : '/api/signin', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }),
    });
    body = await r.json();
  } catch (e) {
    throw new Error('Could not reach the server.');
  }
  if (!r.ok || !body.token) throw new Error(ERRORS[body.error] || body.message || `Failed (${r.status})`);
  localStorage.setItem(TOKEN_KEY, body.token);
  localStorage.setItem(ACCOUNT_KEY, body.user);
  return body.user;
}

/** Wires the lobby's #account form; `changed(user|null)` after sign-in/out. */
export class AccountForm {
  constructor(changed) {
    this.changed = changed;
    this.el = document.getElementById('account');
    this.el.addEventListener('submit', (e) => { e.preventDefault(); this._submit(e.submitter?.value === 'create'); });
    this.el.querySelector('#sign-out').addEventListener('click', () => { signOut(); this.render(); this.changed(null); });
    this.render();
  }

  render() {
    const acct = currentAccount();
    this.el.dataset.signedIn = acct ? '1' : '0';
    this.el.querySelector('#account-name').textContent = acct ? acct.user : '';
  }

  async _submit(create) {
    const user = this.el.querySelector('#acct-user').value.trim().toLowerCase();
    const pw = this.el.querySelector('#acct-pass').value;
    const msg = this.el.querySelector('#account-msg');
    msg.textContent = create ? 'Creating account…' : 'Signing in…';
    try {
      const name = await signIn(user, pw, create);
      msg.textContent = '';
      this.el.querySelector('#acct-pass').value = '';
      this.render();
      this.changed(name);
    } catch (e) {
      msg.textContent = e.message;
    }
  }
}
