// The messages of a conversation, oldest first, with pending and failed sends at the end,
// "Seen" under the viewer's newest read message, notes marked as private, and a button that
// pages older history in, and a message's `actions` (the dashboard's edit and delete).
// Deleted messages show as such, edited ones say so. Sticks to the bottom as messages
// arrive; with `focusId`, pages back to that message once, scrolls to it and marks it.
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Attachment } from './Attachment.jsx';
import { shortTime } from './format.js';

function Bubble({ mine, note, children, label }) {
  const tone = note
    ? 'bg-amber-100 text-amber-950 border border-amber-300'
    : mine
      ? 'bg-[var(--accent)] text-white'
      : 'bg-slate-100 text-slate-900';
  return (
    <div className={`flex ${mine ? 'justify-end' : 'justify-start'}`}>
      <div className={`max-w-[85%] rounded-2xl px-3 py-2 ${tone}`} aria-label={label}>
        {children}
      </div>
    </div>
  );
}

function Body({ message, token }) {
  if (message.deletedAt) {
    return <p className="deleted text-sm italic opacity-80">This message was deleted</p>;
  }
  return (
    <>
      <p className="whitespace-pre-wrap break-words text-sm">
        {message.content}
        {message.editedAt && <span className="edited ml-1 text-[11px] opacity-70">(edited)</span>}
      </p>
      {message.attachments?.length > 0 && (
        <div className="mt-1 space-y-1">
          {message.attachments.map((a) => (
            <Attachment key={a.id} attachment={a} token={token} />
          ))}
        </div>
      )}
    </>
  );
}

export function MessageList({ state, isMine, nameOf, token, onLoadOlder, onDiscard, focusId, focusSeq, actions }) {
  const { messages, hasMore, peerReadSeq } = state;
  // A send whose message already arrived (before its ack) is shown once, as the message.
  const arrived = new Set(messages.map((m) => m.clientMessageId).filter(Boolean));
  const outbox = state.outbox.filter((entry) => !arrived.has(entry.clientMessageId));
  const end = useRef(null);
  const container = useRef(null);
  const pagingFrom = useRef(null);
  const mineLastSeen = [...messages]
    .reverse()
    .find((m) => isMine(m) && !m.private && m.seq <= peerReadSeq);

  useLayoutEffect(() => {
    // Keep the view where it was after older messages are added above.
    if (pagingFrom.current !== null && container.current) {
      container.current.scrollTop = container.current.scrollHeight - pagingFrom.current;
      pagingFrom.current = null;
    }
  }, [messages]);
  const newest = messages.at(-1)?.id;
  useEffect(() => {
    end.current?.scrollIntoView({ block: 'end' });
  }, [newest, outbox.length]);

  async function older() {
    pagingFrom.current = container.current.scrollHeight - container.current.scrollTop;
    await onLoadOlder();
  }

  // After the stick-to-bottom effect, so that the focused message wins on first load. Pages
  // back one page at a time, never two at once, and not past the focused message's seq.
  const focused = useRef(null);
  const paging = useRef(false);
  const [pages, setPages] = useState(0);
  useEffect(() => {
    if (!focusId || focused.current === focusId || !state.loaded || paging.current) return;
    const target = [...(container.current?.querySelectorAll('[data-message-id]') ?? [])].find(
      (node) => node.dataset.messageId === focusId,
    );
    const oldest = messages[0]?.seq;
    const before = oldest === undefined || focusSeq === undefined || oldest > focusSeq;
    if (target) {
      target.scrollIntoView({ block: 'center' });
      focused.current = focusId;
    } else if (hasMore && before) {
      paging.current = true;
      older().finally(() => {
        paging.current = false;
        setPages((n) => n + 1);
      });
    } else {
      focused.current = focusId;
    }
    // `older` is recreated each render; the effect reruns when a page arrives.
  }, [focusId, focusSeq, messages, hasMore, state.loaded, pages]);

  return (
    <div ref={container} className="flex-1 overflow-y-auto px-3 py-2" role="log" aria-label="Messages" aria-live="polite">
      {hasMore && (
        <div className="mb-2 text-center">
          <button type="button" onClick={older} className="rounded px-2 py-1 text-xs text-slate-600 underline">
            Load older messages
          </button>
        </div>
      )}
      <ul className="space-y-2">
        {messages.map((message) => {
          const mine = isMine(message);
          const who = nameOf(message);
          return (
            <li
              key={message.id}
              data-seq={message.seq}
              data-message-id={message.id}
              className={`message ${message.id === focusId ? 'focused rounded-2xl ring-2 ring-amber-400' : ''}`}
              aria-current={message.id === focusId ? 'true' : undefined}
            >
              <Bubble mine={mine} note={message.private} label={`${who}, ${shortTime(message.timestamp)}`}>
                {message.private && <p className="text-[11px] font-semibold uppercase tracking-wide">Private note · agents only</p>}
                <Body message={message} token={token} />
              </Bubble>
              <p className={`mt-0.5 text-[11px] text-slate-500 ${mine ? 'text-right' : ''}`}>
                {`${who} · `}
                {shortTime(message.timestamp)}
                {message === mineLastSeen && <span className="seen ml-1 font-medium text-slate-700"> · Seen</span>}
                {actions?.(message)}
              </p>
            </li>
          );
        })}
        {outbox.map((entry) => (
          <li key={entry.clientMessageId} className="pending">
            <Bubble mine note={entry.private} label="Your message, not sent yet">
              <Body message={{ content: entry.message, attachments: entry.attachments }} token={token} />
            </Bubble>
            <p className="mt-0.5 text-right text-[11px] text-slate-500">
              {entry.failed ? (
                <span role="alert" className="text-red-700">
                  Not sent: {entry.failed}{' '}
                  <button type="button" className="underline" onClick={() => onDiscard(entry.clientMessageId)}>
                    Discard
                  </button>
                </span>
              ) : (
                'Sending…'
              )}
            </p>
          </li>
        ))}
      </ul>
      <div ref={end} />
    </div>
  );
}
