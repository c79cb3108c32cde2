// Talking to the embed loader in the host page: it tells the widget when it is opened or
// closed; the widget reports its unread count (for the launcher's badge) and asks to close.

export function postToHost(message) {
  if (window.parent !== window) window.parent.postMessage({ source: 'chat-widget', ...message }, '*');
}

/** Calls `onOpen(open)` whenever the host opens or closes the widget. */
export function listenToHost(onOpen) {
  const handler = (event) => {
    if (event.source !== window.parent || event.data?.source !== 'chat-widget-host') return;
    if (event.data.type === 'open') onOpen(Boolean(event.data.open));
  };
  window.addEventListener('message', handler);
  return () => window.removeEventListener('message', handler);
}
