// /admin/audit (agents with `viewAudit`): who did what, newest first, with the original
// text of edited and deleted messages (gone once redacted); "Show more" pages back.
import { useCallback, useEffect, useState } from 'react';
import { request } from '../shared/api.js';
import { shortTime } from '../shared/format.js';

function describe(action) {
  switch (action.type) {
    case 'signedIn':
      return 'signed in';
    case 'permissionsChanged':
      return `changed the permissions of agent ${action.admin}`;
    case 'adminDisabled':
      return `disabled agent ${action.admin}`;
    case 'statusChanged':
      return `changed conversation ${action.conversation} from ${action.from} to ${action.to}`;
    case 'assigned':
      return `assigned conversation ${action.conversation} to ${action.assignee ?? 'nobody'}`;
    case 'messageEdited':
      return `edited a message; it said: ${action.original ?? '(redacted)'}`;
    case 'messageDeleted':
      return `deleted a message; it said: ${action.original ?? '(redacted)'}`;
    case 'messageRedacted':
      return `redacted a message: ${action.reason}`;
    case 'conversationDeleted':
      return `deleted conversation ${action.conversation}`;
    case 'visitorExported':
      return `exported the data of visitor ${action.customer}`;
    case 'visitorErased':
      return `erased visitor ${action.customer} and ${action.conversations} conversation(s)`;
    default:
      return action.type;
  }
}

export function AuditLog({ token }) {
  const [entries, setEntries] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(
    async (cursor) => {
      try {
        const query = cursor ? `?${new URLSearchParams({ cursor })}` : '';
        const page = await request(`/api/audit${query}`, { token });
        setEntries((previous) => (cursor ? [...previous, ...page.entries] : page.entries));
        setNext(page.nextCursor ?? null);
      } catch (e) {
        setError(e.message);
      }
    },
    [token],
  );
  useEffect(() => {
    load(null);
  }, [load]);

  return (
    <section className="h-full overflow-y-auto p-4" aria-label="Audit log">
      <h2 className="mb-2 font-semibold">Audit log</h2>
      {error && (
        <p role="alert" className="text-xs text-red-700">
          {error}
        </p>
      )}
      {entries?.length === 0 && <p className="text-sm text-slate-500">Nothing recorded yet.</p>}
      <ul className="divide-y text-sm">
        {entries?.map((entry) => (
          <li key={entry.id} className="audit-entry py-2">
            <span className="text-xs text-slate-500">{shortTime(entry.at)} · </span>
            <span className="font-medium">{entry.actorType}</span> {describe(entry.action)}
          </li>
        ))}
      </ul>
      {next && (
        <button type="button" onClick={() => load(next)} className="mt-2 rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50">
          Show more
        </button>
      )}
    </section>
  );
}
