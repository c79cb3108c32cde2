// Messages written but not yet acknowledged, kept in localStorage per conversation so that a
// reload or a dropped connection never loses them; each keeps its client id for retries.

const key = (conversationId) => `chat.outbox.${conversationId}`;

export function loadOutbox(conversationId) {
  try {
    return JSON.parse(localStorage.getItem(key(conversationId))) ?? [];
  } catch {
    return [];
  }
}

export function saveOutbox(conversationId, entries) {
  if (entries.length === 0) localStorage.removeItem(key(conversationId));
  else localStorage.setItem(key(conversationId), JSON.stringify(entries));
}

/** A random client message id (works outside secure contexts too). */
export function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A message to send: text, uploaded attachments, and whether it is an agent's private note. */
export function newEntry(message, attachments = [], isPrivate = false) {
  return {
    clientMessageId: newClientId(),
    message,
    attachments,
    private: isPrivate,
    createdAt: new Date().toISOString(),
  };
}
