// The visitor's conversations (the server lists only its own), newest first: open one, or
// start a new one.
import { useEffect, useState } from 'react';
import { request } from '../shared/api.js';
import { shortTime } from '../shared/format.js';

// A snoozed conversation is the team's business: to the visitor it is open.
const STATUS = { waiting: 'Waiting for a reply', active: 'Open', snoozed: 'Open', closed: 'Closed' };

export function ConversationList({ token, onOpen, onNew }) {
  const [conversations, setConversations] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    request('/api/conversations/list?limit=50', { token }).then(
      (page) => setConversations(page.conversations),
      (e) => setError(e.message),
    );
  }, [token]);

  return (
    <section className="flex-1 overflow-y-auto" aria-label="Your conversations">
      <div className="p-3">
        <button
          type="button"
          onClick={onNew}
          className="w-full rounded bg-[var(--accent)] px-3 py-2 text-sm text-white focus:outline-none focus:ring-2 focus:ring-offset-1 focus:ring-[var(--accent)]"
        >
          Start a new conversation
        </button>
      </div>
      {error && (
        <p role="alert" className="px-3 text-xs text-red-700">
          {error}
        </p>
      )}
      <ul className="divide-y">
        {conversations?.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              onClick={() => onOpen(c.id)}
              className="flex w-full items-center justify-between gap-2 px-3 py-2 text-left text-sm hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-inset focus:ring-[var(--accent)]"
            >
              <span>
                {STATUS[c.status] ?? c.status}
                <span className="block text-xs text-slate-500">{shortTime(c.updatedAt)}</span>
              </span>
              {c.unreadCount > 0 && (
                <span className="rounded-full bg-[var(--accent)] px-1.5 text-xs text-white" aria-label={`${c.unreadCount} unread`}>
                  {c.unreadCount}
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
