// The conversation list: a status filter, unread counts, newest activity first, refreshed
// live from the `inbox` events agents receive.
import { useCallback, useEffect, useRef, useState } from 'react';
import { request } from '../shared/api.js';
import { shortTime, visitorLabel } from '../shared/format.js';
import { navigate } from '../shared/router.js';
import { LabelChips } from './LabelChips.jsx';
import { labelsOf } from './labels.js';
import { StatusPill } from './StatusPill.jsx';

const FILTERS = ['all', 'waiting', 'active', 'snoozed', 'closed'];

function Row({ conversation, selected, me, labels }) {
  const href = `/admin/chat/${conversation.id}`;
  const unread = conversation.unreadCount;
  return (
    <li>
      <a
        href={href}
        onClick={(e) => {
          e.preventDefault();
          navigate(href);
        }}
        aria-current={selected ? 'page' : undefined}
        data-conversation-id={conversation.id}
        className={`conversation block border-b px-3 py-2 hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-inset focus:ring-blue-600 ${selected ? 'bg-blue-50' : ''}`}
      >
        <div className="flex items-center justify-between gap-2">
          <span className={`truncate text-sm ${unread > 0 ? 'font-semibold' : ''}`}>{visitorLabel(conversation.customerId)}</span>
          <span className="shrink-0 text-[11px] text-slate-500">{shortTime(conversation.updatedAt)}</span>
        </div>
        <div className="mt-1 flex items-center gap-2">
          <StatusPill status={conversation.status} />
          {conversation.assigneeId && (
            <span className="text-[11px] text-slate-500">{conversation.assigneeId === me ? 'Assigned to you' : 'Assigned'}</span>
          )}
          {conversation.status === 'snoozed' && conversation.snoozedUntil && (
            <span className="text-[11px] text-slate-500">wakes {shortTime(conversation.snoozedUntil)}</span>
          )}
          <LabelChips labels={labelsOf(labels, conversation.labelIds)} />
          {unread > 0 && (
            <span className="unread ml-auto rounded-full bg-blue-600 px-1.5 text-xs font-semibold text-white" aria-label={`${unread} unread`}>
              {unread}
            </span>
          )}
        </div>
      </a>
    </li>
  );
}

export function Inbox({ token, socket, me, labels, selectedId, refreshKey, onUnauthorized }) {
  const [filter, setFilter] = useState('all');
  const [label, setLabel] = useState('');
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const timer = useRef(null);

  const load = useCallback(
    async (cursor) => {
      const query = new URLSearchParams({ limit: '50' });
      if (filter !== 'all') query.set('status', filter);
      if (label) query.set('label', label);
      if (cursor) query.set('cursor', cursor);
      try {
        const next = await request(`/api/conversations/list?${query}`, { token });
        setPage((previous) =>
          cursor ? { ...next, conversations: [...previous.conversations, ...next.conversations] } : next,
        );
        setError(null);
      } catch (e) {
        if (e.status === 401) onUnauthorized();
        else setError(e.message);
      }
    },
    [token, filter, label, onUnauthorized],
  );

  useEffect(() => {
    load();
  }, [load, refreshKey]);

  useEffect(() => {
    const soon = () => {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => load(), 150);
    };
    socket.on('inbox', soon);
    socket.on('connect', soon);
    return () => {
      clearTimeout(timer.current);
      socket.off('inbox', soon);
      socket.off('connect', soon);
    };
  }, [socket, load]);

  return (
    <nav aria-label="Conversations" className="flex h-full flex-col">
      <div className="flex flex-wrap gap-1 border-b p-2" role="group" aria-label="Filter by status">
        {FILTERS.map((name) => (
          <button
            key={name}
            type="button"
            aria-pressed={filter === name}
            onClick={() => setFilter(name)}
            className={`rounded px-2 py-1 text-xs capitalize focus:outline-none focus:ring-2 focus:ring-blue-600 ${filter === name ? 'bg-blue-600 text-white' : 'bg-slate-100 text-slate-700'}`}
          >
            {name}
          </button>
        ))}
        <select
          aria-label="Filter by label"
          value={label}
          onChange={(e) => setLabel(e.target.value)}
          className="ml-auto max-w-[8rem] rounded border border-slate-300 text-xs"
        >
          <option value="">All labels</option>
          {labels.map((l) => (
            <option key={l.id} value={l.title}>
              {l.title}
            </option>
          ))}
        </select>
      </div>
      {page && (
        <p className="px-3 py-1 text-xs text-slate-500">
          {page.totalCount} conversation{page.totalCount === 1 ? '' : 's'}
          {page.unreadCount > 0 && <span className="total-unread"> · {page.unreadCount} unread</span>}
        </p>
      )}
      {error && (
        <p role="alert" className="px-3 text-xs text-red-700">
          {error}
        </p>
      )}
      <ul className="flex-1 overflow-y-auto">
        {page?.conversations.map((c) => (
          <Row key={c.id} conversation={c} selected={c.id === selectedId} me={me} labels={labels} />
        ))}
        {page && page.conversations.length === 0 && <li className="p-3 text-sm text-slate-500">No conversations here yet.</li>}
      </ul>
      {page?.nextCursor && (
        <button type="button" onClick={() => load(page.nextCursor)} className="border-t p-2 text-xs underline">
          Load more
        </button>
      )}
    </nav>
  );
}
