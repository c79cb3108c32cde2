// The customer widget (inside the embed loader's iframe, or standalone at /widget): a
// session made on first open and kept in localStorage (or the host page's own token,
// renewed through the loader before it expires), the visitor's conversations (one open at a
// time, the others a click away), and what the launcher needs (unread count, close).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ConnectionBanner, useConnection } from '../shared/ConnectionBanner.jsx';
import { Composer } from '../shared/Composer.jsx';
import { loadOutbox, newEntry, saveOutbox } from '../shared/outbox.js';
import { connect } from '../shared/socket.js';
import { uploadAttachment } from '../shared/upload.js';
import { ConversationList } from './ConversationList.jsx';
import { ConversationPane } from './ConversationPane.jsx';
import { Greeting } from './Greeting.jsx';
import { listenToHost, postToHost } from './host.js';
import { readOptions } from './options.js';
import { hostSession, renewalDelay, saveSession, sessionFromLink, startConversation, startSession, storedSession } from './session.js';

function Header({ title, embedded, onList }) {
  return (
    <header className="flex items-center justify-between bg-[var(--accent)] px-4 py-3 text-white">
      <div>
        <h1 className="text-base font-semibold">{title}</h1>
        <p className="text-xs opacity-90">We usually reply within a few minutes.</p>
      </div>
      {onList && (
        <button
          type="button"
          onClick={onList}
          className="ml-auto mr-2 rounded border border-white/50 px-2 py-1 text-xs focus:outline-none focus:ring-2 focus:ring-white"
        >
          Your conversations
        </button>
      )}
      {embedded && (
        <button
          type="button"
          onClick={() => postToHost({ type: 'close' })}
          className="rounded p-1 text-xl leading-none focus:outline-none focus:ring-2 focus:ring-white"
          aria-label="Close chat"
        >
          ×
        </button>
      )}
    </header>
  );
}

/**
 * Before the first message: the greeting and a composer; the conversation starts on send.
 * Messages written while it is being started are all kept, in order: the first to learn
 * its id hands every one written so far to the conversation's outbox.
 */
function StartPane({ session, greeting, onStarted }) {
  const pending = useRef(null);
  const written = useRef([]);
  const handed = useRef(false);
  const conversation = () => (pending.current ??= startConversation(session.token));
  async function send(text, attachments) {
    const entry = newEntry(text, attachments);
    written.current.push(entry);
    const id = await conversation();
    if (handed.current) {
      // Written after the hand-over, before this pane went away.
      saveOutbox(id, [...loadOutbox(id), entry]);
      return;
    }
    handed.current = true;
    saveOutbox(id, [...loadOutbox(id), ...written.current]);
    onStarted(id);
  }
  async function attach(file, onProgress) {
    const conversationId = await conversation();
    return uploadAttachment({ token: session.token, conversationId, file, onProgress });
  }
  return (
    <>
      <div className="flex-1">
        <Greeting text={greeting} />
      </div>
      <Composer onSend={send} onTyping={() => {}} onUpload={attach} placeholder="Write a message…" />
    </>
  );
}

export function Widget() {
  const options = useMemo(() => readOptions(), []);
  // An email's link back signs the visitor in and names the conversation to open (a
  // conversation that is not theirs answers 404, and the widget starts afresh).
  const [session, setSession] = useState(() => {
    const linked = sessionFromLink(options.identifier, options.conversation);
    if (linked) return linked;
    // The host page hands its token over once the widget is ready.
    if (options.hostAuth) return null;
    const stored = storedSession(options.identifier);
    return stored && options.conversation ? { ...stored, conversationId: options.conversation } : stored;
  });
  const [open, setOpen] = useState(!options.embedded);
  const [error, setError] = useState(null);
  const [blocked, setBlocked] = useState(false);
  const [listing, setListing] = useState(false);

  const updateSession = useCallback((next) => {
    saveSession(next);
    setSession(next);
  }, []);

  // A host token (first, or renewed): the server says who it is.
  const current = useRef(session);
  current.current = session;
  // A refused token is asked for again once (a page's data-token may be stale); a second
  // refusal in a row stops there.
  const refusedInARow = useRef(0);
  const onHostToken = useCallback(
    (token) => {
      hostSession(token, current.current).then(
        (next) => {
          refusedInARow.current = 0;
          setError(null);
          updateSession(next);
        },
        (e) => {
          refusedInARow.current += 1;
          if (e.status === 401 && refusedInARow.current === 1) postToHost({ type: 'token' });
          else setError(e.status === 401 ? 'your sign-in has expired; reload the page' : e.message);
        },
      );
    },
    [updateSession],
  );

  useEffect(() => {
    const stop = listenToHost(setOpen, options.hostAuth ? onHostToken : undefined);
    const escape = (event) => event.key === 'Escape' && postToHost({ type: 'close' });
    window.addEventListener('keydown', escape);
    postToHost({ type: 'ready' });
    return () => {
      stop();
      window.removeEventListener('keydown', escape);
    };
  }, [options.hostAuth, onHostToken]);

  // A host token is renewed before it expires: the loader asks the host page for a new one.
  useEffect(() => {
    if (!options.hostAuth || !session?.token || typeof session.expiresIn !== 'number') return undefined;
    const timer = setTimeout(() => postToHost({ type: 'token' }), renewalDelay(session.expiresIn));
    return () => clearTimeout(timer);
  }, [options.hostAuth, session?.token, session?.expiresIn]);

  // A visitor gets a session when they first open the widget, not on every page view.
  useEffect(() => {
    if (session || !open || options.hostAuth) return;
    startSession(options).then(updateSession, (e) => setError(e.message));
  }, [session, open, options, updateSession]);

  const socket = useMemo(() => (session ? connect(session.token) : null), [session?.token]);
  useEffect(() => {
    if (!socket) return undefined;
    const refused = (err) => {
      // A host token that ran out: ask the host page for a new one.
      if (err.message === 'authentication required' && options.hostAuth) postToHost({ type: 'token' });
      else if (err.message === 'authentication required') updateSession(null);
      if (err.message === 'visitor_blocked') setBlocked(true);
    };
    socket.on('connect_error', refused);
    return () => {
      socket.off('connect_error', refused);
      socket.close();
    };
  }, [socket, updateSession, options.hostAuth]);
  const connection = useConnection(socket);

  const onGone = useCallback(
    (status) => {
      if (status === 401 && options.hostAuth) postToHost({ type: 'token' });
      else updateSession(status === 401 ? null : { ...session, conversationId: null });
    },
    [session, updateSession, options.hostAuth],
  );

  return (
    <div className="flex h-screen flex-col bg-white text-slate-900" style={{ '--accent': options.color }}>
      <Header title={options.title} embedded={options.embedded} onList={session && !blocked && !listing ? () => setListing(true) : null} />
      <ConnectionBanner status={connection} />
      {error && (
        <p role="alert" className="p-3 text-sm text-red-700">
          The chat could not start: {error}
        </p>
      )}
      {blocked && (
        <p role="status" className="blocked p-3 text-sm text-slate-700">
          This chat is not available to you any more.
        </p>
      )}
      {!blocked && listing && session && (
        <ConversationList
          token={session.token}
          onOpen={(conversationId) => {
            setListing(false);
            updateSession({ ...session, conversationId });
          }}
          onNew={() => {
            setListing(false);
            updateSession({ ...session, conversationId: null });
          }}
        />
      )}
      {!blocked && !listing && session && !session.conversationId && (
        <StartPane
          key={session.token}
          session={session}
          greeting={options.greeting}
          onStarted={(conversationId) => updateSession({ ...session, conversationId })}
        />
      )}
      {!blocked && !listing && session?.conversationId && socket && (
        <ConversationPane
          key={session.conversationId}
          session={session}
          socket={socket}
          open={open}
          greeting={options.greeting}
          onGone={onGone}
          onNewConversation={() => updateSession({ ...session, conversationId: null })}
        />
      )}
    </div>
  );
}
