// "Get replies by email": the visitor leaves an address, and an agent's reply that stays
// unread while they are away is emailed to them (the server decides when). They can change
// or remove it here; the emails carry an unsubscribe link.
import { useEffect, useState } from 'react';
import { request } from '../shared/api.js';

export function EmailForm({ token, customerId }) {
  const [saved, setSaved] = useState(null);
  const [editing, setEditing] = useState(false);
  const [email, setEmail] = useState('');
  const [error, setError] = useState(null);

  useEffect(() => {
    let cancelled = false;
    request(`/api/visitors/${customerId}`, { token })
      .then(({ visitor }) => !cancelled && setSaved(visitor.email))
      .catch(() => {}); // the form still works; the next save says what happened
    return () => {
      cancelled = true;
    };
  }, [token, customerId]);

  async function save(address) {
    try {
      const { visitor } = await request(`/api/visitors/${customerId}/email`, {
        method: 'PUT',
        token,
        body: { email: address },
      });
      setSaved(visitor.email);
      setEditing(false);
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  }

  if (!editing) {
    return (
      <p className="email-note px-3 pb-1 text-xs text-slate-600">
        {saved ? `We'll email replies to ${saved} if you're away. ` : null}
        <button type="button" className="underline" onClick={() => { setEmail(saved ?? ''); setEditing(true); }}>
          {saved ? 'Change' : 'Get replies by email'}
        </button>
      </p>
    );
  }
  return (
    <form
      className="email-form flex items-center gap-1 px-3 pb-1 text-xs"
      aria-label="Get replies by email"
      onSubmit={(event) => {
        event.preventDefault();
        save(email.trim() || null);
      }}
    >
      <input
        type="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        placeholder="you@example.com"
        aria-label="Your email"
        className="flex-1 rounded border border-slate-300 px-1 py-0.5"
      />
      <button type="submit" className="rounded border border-slate-300 px-2 py-0.5">
        Save
      </button>
      {saved && (
        <button type="button" className="underline" onClick={() => save(null)}>
          Remove
        </button>
      )}
      {error && (
        <span role="alert" className="text-red-700">
          {error}
        </span>
      )}
    </form>
  );
}
