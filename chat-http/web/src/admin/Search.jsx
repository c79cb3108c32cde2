// /admin/search?q=…: what the agent may read that matches, newest first: conversations
// named exactly (by id, visitor id, address or identifier), then messages holding every
// word, each opening its conversation at that message; "Show more" pages on.
import { useEffect, useRef, useState } from 'react';
import { request } from '../shared/api.js';
import { shortTime, visitorLabel } from '../shared/format.js';
import { navigate } from '../shared/router.js';
import { StatusPill } from './StatusPill.jsx';

function open(event, href) {
  event.preventDefault();
  navigate(href);
}

/** The search box of the dashboard's header. */
export function SearchBox({ initial }) {
  const [text, setText] = useState(initial ?? '');
  useEffect(() => setText(initial ?? ''), [initial]);
  return (
    <form
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) navigate(`/admin/search?${new URLSearchParams({ q: text.trim() })}`);
      }}
    >
      <input
        type="search"
        aria-label="Search conversations and messages"
        placeholder="Search…"
        value={text}
        onChange={(e) => setText(e.target.value)}
        className="w-40 rounded px-2 py-1 text-xs text-slate-900 focus:outline-none focus:ring-2 focus:ring-white sm:w-56"
      />
    </form>
  );
}

function MessageHit({ hit }) {
  const { message, conversation } = hit;
  const href = `/admin/chat/${conversation.id}?${new URLSearchParams({ message: message.id, seq: message.seq })}`;
  const who = message.private ? 'Private note' : message.senderType === 'customer' ? 'Visitor' : 'Agent';
  return (
    <li>
      <a href={href} onClick={(e) => open(e, href)} className="search-hit block px-3 py-2 hover:bg-slate-50">
        <p className="flex items-center gap-2 text-xs text-slate-500">
          {visitorLabel(conversation.customerId)} <StatusPill status={conversation.status} />
          <span>
            {who} · {shortTime(message.timestamp)}
          </span>
        </p>
        <p className="line-clamp-2 whitespace-pre-wrap break-words text-sm">{message.content}</p>
      </a>
    </li>
  );
}

export function Search({ token, q }) {
  const [results, setResults] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);
  // The search a page belongs to: an answer for an earlier one is dropped.
  const current = useRef(null);

  async function load(cursor) {
    const asked = current.current;
    const stale = () => current.current !== asked;
    setLoading(true);
    try {
      const query = new URLSearchParams({ q, ...(cursor ? { cursor } : {}) });
      const page = await request(`/api/search?${query}`, { token });
      if (stale()) return;
      setResults((previous) =>
        cursor ? { ...page, conversations: previous.conversations, messages: [...previous.messages, ...page.messages] } : page,
      );
      setError(null);
    } catch (e) {
      if (!stale()) setError(e.message);
    } finally {
      if (!stale()) setLoading(false);
    }
  }
  useEffect(() => {
    current.current = {};
    setResults(null);
    setError(null);
    if (q) load(null);
  }, [q, token]);

  const empty = results && results.conversations.length === 0 && results.messages.length === 0;
  return (
    <section className="h-full overflow-y-auto p-4" aria-label="Search results">
      <h2 className="mb-2 font-semibold">Results for “{q}”</h2>
      {error && (
        <p role="alert" className="text-xs text-red-700">
          {error}
        </p>
      )}
      {!results && !error && <p className="text-sm text-slate-500">Searching…</p>}
      {empty && <p className="text-sm text-slate-500">Nothing matches.</p>}
      {results?.conversations.length > 0 && (
        <>
          <h3 className="mt-2 text-xs font-semibold uppercase text-slate-500">Conversations</h3>
          <ul className="divide-y" aria-label="Conversations found">
            {results.conversations.map((c) => (
              <li key={c.id}>
                <a href={`/admin/chat/${c.id}`} onClick={(e) => open(e, `/admin/chat/${c.id}`)} className="flex items-center gap-2 px-3 py-2 text-sm hover:bg-slate-50">
                  {visitorLabel(c.customerId)} <StatusPill status={c.status} />
                  <span className="text-xs text-slate-500">{shortTime(c.updatedAt)}</span>
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
      {results?.messages.length > 0 && (
        <>
          <h3 className="mt-2 text-xs font-semibold uppercase text-slate-500">Messages</h3>
          <ul className="divide-y" aria-label="Messages found">
            {results.messages.map((hit) => (
              <MessageHit key={hit.message.id} hit={hit} />
            ))}
          </ul>
        </>
      )}
      {results?.nextCursor && (
        <button
          type="button"
          disabled={loading}
          onClick={() => load(results.nextCursor)}
          className="mt-2 rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50 disabled:opacity-50"
        >
          Show more
        </button>
      )}
    </section>
  );
}
