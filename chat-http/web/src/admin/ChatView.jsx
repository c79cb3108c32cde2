// One conversation in the dashboard: history paged upward (back to a message a search
// result opened), replies and private notes, typing, "seen", attachments, editing and
// deleting messages, close / reopen and assignment.
import { useCallback, useEffect, useState } from 'react';
import { request } from '../shared/api.js';
import { Composer } from '../shared/Composer.jsx';
import { visitorLabel } from '../shared/format.js';
import { MessageList } from '../shared/MessageList.jsx';
import { uploadAttachment } from '../shared/upload.js';
import { useConversation } from '../shared/useConversation.js';
import { useVisible } from '../shared/useVisible.js';
import { BlockButton } from './BlockButton.jsx';
import { LabelEditor } from './LabelEditor.jsx';
import { MessageActions } from './MessageActions.jsx';
import { SnoozeMenu } from './SnoozeMenu.jsx';
import { VisitorData } from './VisitorData.jsx';
import { StatusPill } from './StatusPill.jsx';

function Actions({ conversation, me, token, onError }) {
  const [busy, setBusy] = useState(false);
  const path = `/api/conversations/${conversation.id}`;
  async function post(suffix, body) {
    setBusy(true);
    try {
      await request(`${path}/${suffix}`, { method: 'POST', token, body });
      onError(null);
    } catch (e) {
      onError(e.message);
    } finally {
      setBusy(false);
    }
  }
  const button =
    'rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-blue-600 disabled:opacity-50';
  const mine = conversation.assigneeId === me;
  return (
    <div className="flex flex-wrap gap-2">
      <button type="button" disabled={busy} className={button} onClick={() => post('assign', { assigneeId: mine ? null : me })}>
        {mine ? 'Unassign' : 'Assign to me'}
      </button>
      <SnoozeMenu
        conversation={conversation}
        busy={busy}
        className={button}
        onSnooze={(snoozedUntil) => post('status', { status: 'snoozed', snoozedUntil })}
        onWake={() => post('status', { status: 'active' })}
      />
      {conversation.status === 'closed' ? (
        <button type="button" disabled={busy} className={button} onClick={() => post('status', { status: 'active' })}>
          Reopen
        </button>
      ) : (
        <button type="button" disabled={busy} className={button} onClick={() => post('status', { status: 'closed' })}>
          Close conversation
        </button>
      )}
    </div>
  );
}

export function ChatView({ token, socket, me, permissions, conversationId, focusMessageId, focusSeq, labels, onLabelsChanged, onRead, onErased, onUnauthorized }) {
  const { state, send, discard, loadOlder, markRead, noteTyping } = useConversation({
    token,
    socket,
    conversationId,
    viewer: 'admin',
  });
  const [actionError, setActionError] = useState(null);
  const visible = useVisible();
  const { conversation } = state;
  const suggest = useCallback(
    async (search) => {
      const query = new URLSearchParams({ search, conversationId });
      const answer = await request(`/api/canned-replies?${query}`, { token });
      return answer.cannedReplies;
    },
    [token, conversationId],
  );

  useEffect(() => {
    if (state.error?.status === 401) onUnauthorized();
  }, [state.error, onUnauthorized]);
  useEffect(() => {
    if (visible) markRead();
  }, [visible, state.lastSeq, state.loaded, markRead]);
  useEffect(() => {
    onRead();
  }, [state.myReadSeq, onRead]);

  if (state.error?.status === 404) {
    return <p className="p-4 text-sm">This conversation does not exist or is not yours to see.</p>;
  }
  if (!conversation) {
    return state.error ? (
      <p role="alert" className="p-4 text-sm text-red-700">
        {state.error.message}
      </p>
    ) : (
      <p className="p-4 text-sm text-slate-500">Loading…</p>
    );
  }
  const closed = conversation.status === 'closed';
  const page = conversation.metadata?.page;
  return (
    <section className="flex h-full flex-col" aria-label={`Conversation with ${visitorLabel(conversation.customerId)}`}>
      <header className="flex flex-wrap items-center justify-between gap-2 border-b px-4 py-2">
        <div>
          <h2 className="flex items-center gap-2 font-semibold">
            {visitorLabel(conversation.customerId)} <StatusPill status={conversation.status} />
          </h2>
          {typeof page === 'string' && <p className="truncate text-xs text-slate-500">from {page}</p>}
          {conversation.rating && (
            <p className="rating text-xs text-slate-700">
              Rated {conversation.rating.rating}/5{conversation.rating.comment ? `: “${conversation.rating.comment}”` : ''}
            </p>
          )}
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <BlockButton customerId={conversation.customerId} token={token} onError={setActionError} />
          {permissions?.manageVisitorData && (
            <VisitorData customerId={conversation.customerId} token={token} onErased={onErased} onError={setActionError} />
          )}
          <LabelEditor conversation={conversation} labels={labels} token={token} onLabelsChanged={onLabelsChanged} onError={setActionError} />
          <Actions conversation={conversation} me={me} token={token} onError={setActionError} />
        </div>
      </header>
      {actionError && (
        <p role="alert" className="px-4 py-1 text-xs text-red-700">
          {actionError}
        </p>
      )}
      <MessageList
        state={state}
        isMine={(m) => m.senderType === 'admin'}
        nameOf={(m) => (m.private ? 'Private note' : m.senderType === 'customer' ? 'Visitor' : m.senderId === me ? 'You' : 'Agent')}
        token={token}
        onLoadOlder={loadOlder}
        onDiscard={discard}
        focusId={focusMessageId}
        focusSeq={focusSeq}
        actions={(message) => (
          <MessageActions message={message} me={me} permissions={permissions} token={token} onError={setActionError} />
        )}
      />
      {state.peerTyping && (
        <p className="typing px-4 pb-1 text-xs italic text-slate-500" aria-live="polite">
          Visitor is typing…
        </p>
      )}
      {closed && <p className="border-t bg-slate-50 px-4 py-2 text-xs text-slate-600">This conversation is closed. Reopen it to reply.</p>}
      <Composer
        onSend={send}
        onTyping={noteTyping}
        onUpload={(file, onProgress) => uploadAttachment({ token, conversationId, file, onProgress })}
        suggest={suggest}
        allowNotes
        disabled={closed}
        placeholder="Write a reply… (/ for canned replies)"
      />
    </section>
  );
}
