// A conversation's status as a coloured label.
const TONES = {
  waiting: 'bg-amber-100 text-amber-900',
  active: 'bg-green-100 text-green-900',
  closed: 'bg-slate-200 text-slate-700',
  snoozed: 'bg-violet-100 text-violet-900',
};

export function StatusPill({ status }) {
  return <span className={`status rounded-full px-2 py-0.5 text-xs font-medium ${TONES[status] ?? ''}`}>{status}</span>;
}
