// Small display helpers shared by the widget and the dashboard.

/** "14:05" for today, "3 Nov, 14:05" otherwise. */
export function shortTime(iso) {
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** "12 KB", "1.4 MB". */
export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A short, stable label for a visitor. */
export function visitorLabel(customerId) {
  return `Visitor ${customerId.slice(-6)}`;
}
