// /admin/blocked: who is blocked, since when, and a button to unblock each.
import { useCallback, useEffect, useState } from 'react';
import { request } from '../shared/api.js';
import { shortTime, visitorLabel } from '../shared/format.js';

export function BlockedVisitors({ token }) {
  const [visitors, setVisitors] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(async () => {
    try {
      setVisitors((await request('/api/visitors/blocked', { token })).visitors);
    } catch (e) {
      setError(e.message);
    }
  }, [token]);
  useEffect(() => {
    load();
  }, [load]);

  async function unblock(id) {
    try {
      await request(`/api/visitors/${id}/block`, { method: 'DELETE', token });
      await load();
    } catch (e) {
      setError(e.message);
    }
  }

  return (
    <section className="p-4" aria-label="Blocked visitors">
      <h2 className="mb-2 font-semibold">Blocked visitors</h2>
      {error && (
        <p role="alert" className="text-xs text-red-700">
          {error}
        </p>
      )}
      {visitors?.length === 0 && <p className="text-sm text-slate-500">Nobody is blocked.</p>}
      <ul className="divide-y">
        {visitors?.map((v) => (
          <li key={v.id} className="flex items-center justify-between gap-2 py-2 text-sm">
            <span>
              {v.identifier ?? visitorLabel(v.id)} <span className="text-xs text-slate-500">since {shortTime(v.blockedAt)}</span>
            </span>
            <button
              type="button"
              onClick={() => unblock(v.id)}
              className="rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-blue-600"
            >
              Unblock
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
