// Talking to the embed loader in the host page: it tells the widget when it is opened or
// closed and hands it the host's token (again when asked, before it expires); the widget
// reports its unread count (for the launcher's badge) and asks to close.

export function postToHost(message) {
  if (window.parent !== window) window.parent.postMessage({ source: 'chat-widget', ...message }, '*');
}

/**
 * Calls `onOpen(open)` whenever the host opens or closes the widget, and `onToken(token)`
 * whenever it hands over its token.
 */
export function listenToHost(onOpen, onToken = () => {}) {
  const handler = (event) => {
    if (event.source !== window.parent || event.data?.source !== 'chat-widget-host') return;
    if (event.data.type === 'open') onOpen(Boolean(event.data.open));
    if (event.data.type === 'token' && typeof event.data.token === 'string') onToken(event.data.token);
  };
  window.addEventListener('message', handler);
  return () => window.removeEventListener('message', handler);
}
