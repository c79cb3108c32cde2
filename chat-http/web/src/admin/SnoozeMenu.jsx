// Snoozing from the conversation header: presets (in an hour, tomorrow 9:00, next Monday
// 9:00, until the visitor replies) or a date and time; a snoozed conversation shows when it
// wakes and can be unsnoozed.
import { useId, useState } from 'react';
import { shortTime } from '../shared/format.js';

function at(days, hour) {
  const date = new Date();
  date.setDate(date.getDate() + days);
  date.setHours(hour, 0, 0, 0);
  return date;
}

function nextMonday() {
  const days = ((8 - new Date().getDay()) % 7) || 7;
  return at(days, 9);
}

const PRESETS = [
  ['In 1 hour', () => new Date(Date.now() + 3_600_000)],
  ['Tomorrow 9:00', () => at(1, 9)],
  ['Next Monday 9:00', nextMonday],
  ['Until the visitor replies', () => null],
];

export function SnoozeMenu({ conversation, busy, onSnooze, onWake, className }) {
  const [open, setOpen] = useState(false);
  const [custom, setCustom] = useState('');
  const panelId = useId();
  if (conversation.status === 'snoozed') {
    return (
      <span className="flex items-center gap-1 text-xs">
        <span className="snoozed-until text-slate-600">
          {conversation.snoozedUntil ? `Snoozed until ${shortTime(conversation.snoozedUntil)}` : 'Snoozed until the visitor replies'}
        </span>
        <button type="button" disabled={busy} className={className} onClick={onWake}>
          Unsnooze
        </button>
      </span>
    );
  }
  if (conversation.status === 'closed') return null;
  const pick = (until) => {
    setOpen(false);
    onSnooze(until ? until.toISOString() : null);
  };
  return (
    <span className="relative">
      <button type="button" disabled={busy} aria-expanded={open} aria-controls={panelId} className={className} onClick={() => setOpen((o) => !o)}>
        Snooze
      </button>
      {open && (
        <div id={panelId} role="group" aria-label="Snooze until" className="absolute right-0 top-8 z-10 w-56 rounded border bg-white p-2 text-sm shadow">
          {PRESETS.map(([label, until]) => (
            <button key={label} type="button" className="block w-full rounded px-2 py-1 text-left hover:bg-slate-100" onClick={() => pick(until())}>
              {label}
            </button>
          ))}
          <form
            className="mt-1 flex gap-1"
            onSubmit={(e) => {
              e.preventDefault();
              if (custom) pick(new Date(custom));
            }}
          >
            <input type="datetime-local" aria-label="Snooze until date and time" value={custom} onChange={(e) => setCustom(e.target.value)} className="min-w-0 flex-1 rounded border border-slate-300 text-xs" />
            <button type="submit" className="rounded bg-blue-600 px-2 text-xs text-white">
              Set
            </button>
          </form>
        </div>
      )}
    </span>
  );
}
