// Blocking the conversation's visitor from its header: shows whether the visitor is
// blocked, and blocks (after a confirmation) or unblocks it.
import { useCallback, useEffect, useState } from 'react';
import { request } from '../shared/api.js';

export function BlockButton({ customerId, token, onError }) {
  const [visitor, setVisitor] = useState(null);
  const path = `/api/visitors/${customerId}`;
  const load = useCallback(async () => {
    try {
      setVisitor((await request(path, { token })).visitor);
    } catch (e) {
      onError(e.message);
    }
  }, [path, token, onError]);
  useEffect(() => {
    load();
  }, [load]);

  async function toggle() {
    const blocked = Boolean(visitor.blockedAt);
    if (!blocked && !window.confirm('Block this visitor? Nothing they send will reach you.')) return;
    try {
      const answer = await request(`${path}/block`, { method: blocked ? 'DELETE' : 'POST', token });
      setVisitor(answer.visitor);
      onError(null);
    } catch (e) {
      onError(e.message);
    }
  }

  if (!visitor) return null;
  const blocked = Boolean(visitor.blockedAt);
  return (
    <span className="flex items-center gap-1">
      {blocked && <span className="rounded bg-red-100 px-1.5 text-xs font-semibold text-red-800">Blocked</span>}
      <button
        type="button"
        onClick={toggle}
        className="rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-blue-600"
      >
        {blocked ? 'Unblock visitor' : 'Block visitor'}
      </button>
    </span>
  );
}
