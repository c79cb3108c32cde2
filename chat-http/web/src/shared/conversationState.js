// The state of one conversation as one session sees it, and the pure reducer that merges
// history pages, join catch-ups and live events into it (deduplicated by message id, ordered
// by seq, so replays after a reconnect change nothing; of two copies of a message, the later
// edit or the deletion wins).

export const initialState = {
  loaded: false,
  error: null,
  conversation: null,
  messages: [],
  hasMore: false,
  lastSeq: 0,
  myReadSeq: 0,
  peerReadSeq: 0,
  peerTyping: false,
  outbox: [],
};

/** Of two copies of one message, the later state: deleted beats kept, a later edit beats an
 * earlier one (a history page fetched before an edit may arrive after it). */
function later(a, b) {
  if (Boolean(a.deletedAt) !== Boolean(b.deletedAt)) return a.deletedAt ? a : b;
  const edited = (m) => (m.editedAt ? Date.parse(m.editedAt) : 0);
  return edited(a) > edited(b) ? a : b;
}

/** Replaces a message already in view by a newer copy; one not loaded yet (older than the
 * pages in view) is left for history to bring, so no gap opens. */
function revise(messages, message) {
  return messages.some((m) => m.id === message.id) ? merge(messages, [message]) : messages;
}

function merge(existing, incoming) {
  if (incoming.length === 0) return existing;
  const byId = new Map(existing.map((message) => [message.id, message]));
  for (const message of incoming) {
    const known = byId.get(message.id);
    byId.set(message.id, known ? later(known, message) : message);
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** What a `conversation:updated` event changed, as of its seq: only the fields it carries. */
export function conversationChanges(payload) {
  const changes = {};
  if ('status' in payload) changes.status = payload.status;
  if ('status' in payload) changes.snoozedUntil = payload.snoozedUntil ?? null;
  if ('assigneeId' in payload) changes.assigneeId = payload.assigneeId ?? null;
  if ('labelsAdded' in payload) changes.labelsAdded = payload.labelsAdded;
  if ('labelsRemoved' in payload) changes.labelsRemoved = payload.labelsRemoved;
  if ('rating' in payload) changes.rating = payload.rating;
  return changes;
}

/** A label set after a change: set operations, so a replayed change changes nothing. */
function relabel(labelIds, added = [], removed = []) {
  const next = new Set(labelIds);
  for (const id of removed) next.delete(id);
  for (const id of added) next.add(id);
  return [...next];
}

function withConversation(state, changes) {
  if (!state.conversation) return state;
  const { labelsAdded, labelsRemoved, ...fields } = changes;
  const conversation = { ...state.conversation, ...fields };
  if (labelsAdded || labelsRemoved) {
    conversation.labelIds = relabel(conversation.labelIds ?? [], labelsAdded, labelsRemoved);
  }
  return { ...state, conversation };
}

function applyEvent(state, event) {
  const next = { ...state, lastSeq: Math.max(state.lastSeq, event.seq) };
  switch (event.type) {
    case 'message':
      return { ...next, messages: merge(next.messages, [event.message]) };
    case 'messageUpdated':
    case 'messageDeleted':
      return { ...next, messages: revise(next.messages, event.message) };
    case 'statusChanged':
      return withConversation(next, { status: event.status, snoozedUntil: null });
    case 'snoozed':
      return withConversation(next, { status: 'snoozed', snoozedUntil: event.snoozedUntil ?? null });
    case 'assigned':
      return withConversation(next, { assigneeId: event.assigneeId ?? null });
    case 'rated':
      return withConversation(next, { rating: { rating: event.rating, comment: event.comment ?? null } });
    case 'labelsChanged':
      return withConversation(next, { labelsAdded: event.labelsAdded, labelsRemoved: event.labelsRemoved });
    default:
      return next;
  }
}

export function reducer(state, action) {
  switch (action.type) {
    case 'loaded': {
      const { conversation, messages, hasMore } = action;
      return {
        ...state,
        loaded: true,
        error: null,
        conversation,
        messages: merge(state.messages, messages),
        hasMore,
        lastSeq: Math.max(state.lastSeq, conversation.lastSeq),
        myReadSeq: Math.max(state.myReadSeq, conversation.lastReadSeq),
        peerReadSeq: Math.max(state.peerReadSeq, conversation.peerLastReadSeq ?? 0),
      };
    }
    case 'older':
      return { ...state, messages: merge(state.messages, action.messages), hasMore: action.hasMore };
    case 'failed':
      return { ...state, error: action.error };
    case 'events':
      return action.events.reduce(applyEvent, state);
    case 'message': {
      const next = { ...state, lastSeq: Math.max(state.lastSeq, action.seq) };
      return { ...next, messages: merge(next.messages, [action.message]), peerTyping: false };
    }
    case 'revised':
      return { ...state, lastSeq: Math.max(state.lastSeq, action.seq), messages: revise(state.messages, action.message) };
    case 'updated':
      return withConversation({ ...state, lastSeq: Math.max(state.lastSeq, action.seq) }, action.changes);
    case 'read':
      return action.mine
        ? { ...state, myReadSeq: Math.max(state.myReadSeq, action.seq) }
        : { ...state, peerReadSeq: Math.max(state.peerReadSeq, action.seq) };
    case 'typing':
      return { ...state, peerTyping: action.isTyping };
    case 'outbox':
      return { ...state, outbox: action.outbox };
    default:
      return state;
  }
}
