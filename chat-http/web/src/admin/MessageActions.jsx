// What an agent may do to a sent message, under it: edit or delete its own (the server
// holds the edit window), delete anyone's and redact, a deleted message too (with
// `deleteMessages`). The server decides; a refusal is shown.
import { request } from '../shared/api.js';

export function MessageActions({ message, me, permissions, token, onError }) {
  const path = `/api/messages/${message.id}`;
  const mine = message.senderType === 'admin' && message.senderId === me;
  const moderator = Boolean(permissions?.deleteMessages);
  const deleted = Boolean(message.deletedAt);
  async function act(method, suffix, body) {
    try {
      await request(`${path}${suffix}`, { method, token, body });
      onError(null);
    } catch (e) {
      onError(e.message);
    }
  }
  function edit() {
    const text = window.prompt('Edit message', message.content);
    if (text !== null && text.trim() && text !== message.content) act('PATCH', '', { message: text });
  }
  function remove() {
    if (window.confirm('Delete this message? Its text is kept only in the audit log.')) act('DELETE', '');
  }
  function redact() {
    const reason = window.prompt('Redact: the text is erased everywhere, the audit log included. Why?');
    if (reason?.trim()) act('POST', '/redact', { reason });
  }
  const link = 'ml-2 underline hover:text-slate-800';
  return (
    <span className="message-actions">
      {mine && !deleted && (
        <button type="button" className={link} onClick={edit}>
          Edit
        </button>
      )}
      {(mine || moderator) && !deleted && (
        <button type="button" className={link} onClick={remove}>
          Delete
        </button>
      )}
      {moderator && (
        <button type="button" className={link} onClick={redact}>
          Redact
        </button>
      )}
    </span>
  );
}
