// The visitor's conversation: messages in real time, typing, "seen", attachments, the
// closed state, and the unread count for the launcher while the widget is closed (the
// server's count, re-read when something new arrives: the unread rule lives on the server).
import { useEffect, useState } from 'react';
import { request } from '../shared/api.js';
import { Composer } from '../shared/Composer.jsx';
import { MessageList } from '../shared/MessageList.jsx';
import { uploadAttachment } from '../shared/upload.js';
import { useConversation } from '../shared/useConversation.js';
import { useVisible } from '../shared/useVisible.js';
import { EmailForm } from './EmailForm.jsx';
import { Greeting } from './Greeting.jsx';
import { postToHost } from './host.js';
import { RatingForm } from './RatingForm.jsx';

/** The server's unread count while the widget is closed; zero while it is open (and read). */
function useServerUnread({ token, conversationId, open, loaded, changed }) {
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    if (open || !loaded) {
      setUnread(0);
      return undefined;
    }
    let cancelled = false;
    request(`/api/conversations/${conversationId}`, { token })
      .then(({ conversation }) => !cancelled && setUnread(conversation.unreadCount))
      .catch(() => {}); // the badge keeps its last count; the next event asks again
    return () => {
      cancelled = true;
    };
  }, [token, conversationId, open, loaded, changed]);
  return unread;
}

export function ConversationPane({ session, socket, open, greeting, onGone, onNewConversation }) {
  const { token, conversationId } = session;
  const { state, send, discard, loadOlder, markRead, noteTyping } = useConversation({
    token,
    socket,
    conversationId,
    viewer: 'customer',
  });
  const visible = useVisible();
  const unread = useServerUnread({
    token,
    conversationId,
    open,
    loaded: state.loaded,
    // Re-read when something arrives, and when a read lands (a late mark-read, another tab).
    changed: `${state.lastSeq}:${state.myReadSeq}`,
  });
  const closed = state.conversation?.status === 'closed';

  useEffect(() => {
    if (state.error?.status === 401 || state.error?.status === 404) onGone(state.error.status);
  }, [state.error, onGone]);
  useEffect(() => {
    postToHost({ type: 'unread', count: open ? 0 : unread });
  }, [open, unread]);
  useEffect(() => {
    if (open && visible) markRead();
  }, [open, visible, state.lastSeq, state.loaded, markRead]);

  return (
    <>
      {!state.hasMore && <Greeting text={greeting} />}
      <MessageList
        state={state}
        isMine={(m) => m.senderType === 'customer'}
        nameOf={(m) => (m.senderType === 'customer' ? 'You' : 'Support')}
        token={token}
        onLoadOlder={loadOlder}
        onDiscard={discard}
      />
      {state.peerTyping && (
        <p className="typing px-3 pb-1 text-xs italic text-slate-500" aria-live="polite">
          Support is typing…
        </p>
      )}
      {state.error && state.error.status !== 401 && state.error.status !== 404 && (
        <p role="alert" className="px-3 pb-1 text-xs text-red-700">
          {state.error.message}
        </p>
      )}
      {closed ? (
        <div className="closed border-t bg-slate-50 p-3 text-center text-sm" role="status">
          <p>This conversation has been closed.</p>
          <RatingForm token={token} conversationId={conversationId} rating={state.conversation.rating} />
          <button
            type="button"
            onClick={onNewConversation}
            className="mt-2 rounded bg-[var(--accent)] px-3 py-1.5 text-white focus:outline-none focus:ring-2 focus:ring-offset-1 focus:ring-[var(--accent)]"
          >
            Start a new conversation
          </button>
        </div>
      ) : (
        <>
          <EmailForm token={token} customerId={session.customerId} />
          <Composer
          onSend={(text, attachments) => send(text, attachments)}
          onTyping={noteTyping}
          onUpload={(file, onProgress) => uploadAttachment({ token, conversationId, file, onProgress })}
          placeholder="Write a message…"
          />
        </>
      )}
    </>
  );
}
