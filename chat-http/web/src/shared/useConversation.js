// One conversation for one session: loads the newest history page over REST, joins over
// Socket.IO with `since` (again after every reconnect, so nothing is lost or repeated),
// sends through a persistent outbox retried with the same client id, and tracks read state
// and typing both ways.
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { ApiError, request } from './api.js';
import { conversationChanges, initialState, reducer } from './conversationState.js';
import { loadOutbox, newEntry, saveOutbox } from './outbox.js';
import { call } from './socket.js';

const PAGE = 30;
const TYPING_IDLE_MS = 3000;
const PEER_TYPING_TIMEOUT_MS = 6000;
/** Refusals that mean "not now" (the store out of reach, a rate limit): sent again later. */
const RETRY_LATER = new Set(['unavailable', 'rate_limited']);
const RETRY_LATER_MS = 2000;
const LEFT_MESSAGE = 'You no longer have access to this conversation.';

/** `viewer` is `customer` or `admin`: whose messages are "mine". */
export function useConversation({ token, socket, conversationId, viewer }) {
  const [state, dispatch] = useReducer(reducer, initialState);
  const stateRef = useRef(state);
  stateRef.current = state;
  const draining = useRef(false);
  const typing = useRef({ active: false, timer: null });
  const flushLater = useRef(() => {});

  const setOutbox = useCallback(
    (update) => {
      const outbox = update(stateRef.current.outbox);
      stateRef.current = { ...stateRef.current, outbox };
      saveOutbox(conversationId, outbox);
      dispatch({ type: 'outbox', outbox });
    },
    [conversationId],
  );

  // Sends one entry; what became of it: 'sent', 'later' (refused for now, or no answer:
  // it goes again with the same id), or 'failed' (refused for good, and marked so).
  const deliver = useCallback(
    async (entry) => {
      try {
        const ack = await call(socket, 'message:send', {
          conversationId,
          message: entry.message,
          clientMessageId: entry.clientMessageId,
          attachmentIds: entry.attachments.map((a) => a.id),
          private: entry.private,
        });
        const message = {
          id: ack.messageId,
          seq: ack.seq,
          senderType: viewer,
          content: entry.message,
          timestamp: ack.deliveredAt,
          clientMessageId: entry.clientMessageId,
          private: entry.private,
          attachments: entry.attachments,
        };
        dispatch({ type: 'message', seq: ack.seq, message });
        setOutbox((outbox) => outbox.filter((e) => e.clientMessageId !== entry.clientMessageId));
        return 'sent';
      } catch (error) {
        if (RETRY_LATER.has(error.code) || error.code === 'timeout') return 'later';
        setOutbox((outbox) =>
          outbox.map((e) =>
            e.clientMessageId === entry.clientMessageId ? { ...e, failed: error.message } : e,
          ),
        );
        return 'failed';
      }
    },
    [socket, conversationId, viewer, setOutbox],
  );

  // Sends the outbox in order, one message at a time, so messages are stored in the order
  // they were written even when one is refused for now and goes again (a rate limit, the
  // store out of reach, no answer). Without a connection it waits for the next join.
  const flush = useCallback(async () => {
    if (draining.current) return;
    draining.current = true;
    try {
      for (;;) {
        const entry = stateRef.current.outbox.find((e) => !e.failed);
        if (!entry || !socket?.connected) return;
        if ((await deliver(entry)) === 'later') {
          setTimeout(() => flushLater.current(), RETRY_LATER_MS);
          return;
        }
      }
    } finally {
      draining.current = false;
    }
  }, [socket, deliver]);
  flushLater.current = flush;

  // History: the conversation and its newest page.
  useEffect(() => {
    let cancelled = false;
    const outbox = loadOutbox(conversationId);
    stateRef.current = { ...initialState, outbox };
    dispatch({ type: 'outbox', outbox });
    (async () => {
      try {
        const [{ conversation }, page] = await Promise.all([
          request(`/api/conversations/${conversationId}`, { token }),
          request(`/api/conversations/${conversationId}/messages?limit=${PAGE}`, { token }),
        ]);
        if (!cancelled) dispatch({ type: 'loaded', conversation, messages: page.messages, hasMore: page.hasMore });
      } catch (error) {
        if (!cancelled) dispatch({ type: 'failed', error });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [token, conversationId]);

  // Live: join with `since` on every connect, then listen.
  useEffect(() => {
    if (!socket || !state.loaded) return undefined;
    const mine = (payload) => payload.conversationId === conversationId;
    let peerTypingTimer = null;
    const join = async () => {
      try {
        const ack = await call(socket, 'conversation:join', {
          conversationId,
          since: stateRef.current.lastSeq,
        });
        dispatch({ type: 'events', events: ack.events });
        flush();
      } catch (error) {
        if (error.code !== 'timeout') dispatch({ type: 'failed', error });
      }
    };
    const handlers = {
      connect: join,
      'message:new': (p) => mine(p) && dispatch({ type: 'message', seq: p.seq, message: p.message }),
      'message:updated': (p) => mine(p) && dispatch({ type: 'revised', seq: p.seq, message: p.message }),
      'message:deleted': (p) => mine(p) && dispatch({ type: 'revised', seq: p.seq, message: p.message }),
      'conversation:updated': (p) =>
        mine(p) && dispatch({ type: 'updated', seq: p.seq, changes: conversationChanges(p) }),
      // The server took this socket out of the room: access to it ended.
      'conversation:left': (p) =>
        mine(p) && dispatch({ type: 'failed', error: new ApiError(404, 'not_found', LEFT_MESSAGE) }),
      read: (p) =>
        mine(p) && dispatch({ type: 'read', mine: p.readerType === viewer, seq: p.lastReadSeq }),
      typing: (p) => {
        if (!mine(p) || p.senderType === viewer) return;
        dispatch({ type: 'typing', isTyping: p.isTyping });
        clearTimeout(peerTypingTimer);
        if (p.isTyping) {
          peerTypingTimer = setTimeout(() => dispatch({ type: 'typing', isTyping: false }), PEER_TYPING_TIMEOUT_MS);
        }
      },
    };
    for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
    if (socket.connected) join();
    return () => {
      clearTimeout(peerTypingTimer);
      for (const [event, handler] of Object.entries(handlers)) socket.off(event, handler);
      if (socket.connected) socket.emit('conversation:leave', { conversationId }, () => {});
    };
  }, [socket, state.loaded, conversationId, viewer, flush]);

  const stopTyping = useCallback(() => {
    clearTimeout(typing.current.timer);
    if (typing.current.active && socket?.connected) {
      socket.emit('typing', { conversationId, isTyping: false });
    }
    typing.current.active = false;
  }, [socket, conversationId]);

  /** Call on every keystroke: announces typing once, and its end after a pause. */
  const noteTyping = useCallback(() => {
    if (!typing.current.active && socket?.connected) {
      socket.emit('typing', { conversationId, isTyping: true });
    }
    typing.current.active = true;
    clearTimeout(typing.current.timer);
    typing.current.timer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }, [socket, conversationId, stopTyping]);

  const send = useCallback(
    (text, attachments = [], isPrivate = false) => {
      const entry = newEntry(text, attachments, isPrivate);
      setOutbox((outbox) => [...outbox, entry]);
      stopTyping();
      flush();
    },
    [flush, setOutbox, stopTyping],
  );

  const discard = useCallback(
    (clientMessageId) => setOutbox((outbox) => outbox.filter((e) => e.clientMessageId !== clientMessageId)),
    [setOutbox],
  );

  const loadOlder = useCallback(async () => {
    const oldest = stateRef.current.messages[0];
    if (!oldest) return;
    try {
      const page = await request(
        `/api/conversations/${conversationId}/messages?before=${oldest.seq}&limit=${PAGE}`,
        { token },
      );
      dispatch({ type: 'older', messages: page.messages, hasMore: page.hasMore });
    } catch (error) {
      dispatch({ type: 'failed', error });
    }
  }, [token, conversationId]);

  /** Marks everything seen so far as read (when the conversation is on screen). */
  const markRead = useCallback(async () => {
    const { lastSeq, myReadSeq, loaded } = stateRef.current;
    if (!loaded || lastSeq <= myReadSeq || !socket?.connected) return;
    try {
      const ack = await call(socket, 'read', { conversationId, seq: lastSeq });
      dispatch({ type: 'read', mine: true, seq: ack.lastReadSeq });
    } catch {
      // Marked again on the next change.
    }
  }, [socket, conversationId]);

  return { state, send, discard, loadOlder, markRead, noteTyping };
}
