// Choosing a conversation's labels: a checklist of the workspace's labels, and a box that
// creates a new label and puts it on. Each change puts one label on or takes one off (so
// two agents' changes both stick), one at a time; the server records it in the
// conversation's log, the chips follow the log's events, and the checklist shows the
// requested state until the log's next label change (or the request fails). Escape closes
// the panel and returns to its button.
import { useEffect, useId, useRef, useState } from 'react';
import { request } from '../shared/api.js';
import { LabelChips } from './LabelChips.jsx';
import { labelsOf } from './labels.js';

export function LabelEditor({ conversation, labels, token, onLabelsChanged, onError }) {
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState('');
  const [requested, setRequested] = useState(null);
  const [pending, setPending] = useState(false);
  const panelId = useId();
  const button = useRef(null);
  const stored = conversation.labelIds ?? [];
  const storedKey = [...stored].sort().join(',');
  const shown = requested ?? stored;
  const current = labelsOf(labels, stored);

  // The log's next change to the labels (this change, or someone else's) is the truth.
  useEffect(() => setRequested(null), [storedKey]);

  async function change(ids, body) {
    setRequested(ids);
    setPending(true);
    try {
      await request(`/api/conversations/${conversation.id}/labels`, { method: 'POST', token, body });
      onError(null);
    } catch (e) {
      setRequested(null);
      onError(e.message);
    } finally {
      setPending(false);
    }
  }

  function toggle(label) {
    if (pending) return;
    const on = shown.includes(label.id);
    const ids = on ? shown.filter((id) => id !== label.id) : [...shown, label.id];
    change(ids, on ? { remove: [label.title] } : { add: [label.title] });
  }

  async function create(event) {
    event.preventDefault();
    const name = title.trim();
    if (!name) return;
    try {
      const { label } = await request('/api/labels', { method: 'POST', token, body: { title: name } });
      await onLabelsChanged();
      setTitle('');
      await change([...shown, label.id], { add: [label.title] });
    } catch (e) {
      onError(e.message);
    }
  }

  return (
    <div className="relative flex items-center gap-2">
      <LabelChips labels={current} />
      <button
        ref={button}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
        className="rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-blue-600"
      >
        Labels
      </button>
      {open && (
        <div
          id={panelId}
          className="absolute right-0 top-8 z-10 w-56 rounded border bg-white p-2 shadow"
          onKeyDown={(e) => {
            if (e.key !== 'Escape') return;
            setOpen(false);
            button.current?.focus();
          }}
        >
          <fieldset>
            <legend className="mb-1 text-xs font-semibold">Labels on this conversation</legend>
            {labels.length === 0 && <p className="text-xs text-slate-500">No labels yet.</p>}
            {labels.map((label) => (
              <label key={label.id} className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={shown.includes(label.id)} aria-busy={pending} onChange={() => toggle(label)} />
                {label.title}
              </label>
            ))}
          </fieldset>
          <form onSubmit={create} className="mt-2 flex gap-1">
            <input
              aria-label="New label"
              value={title}
              onChange={(e) => setTitle(e.target.value)}
              placeholder="New label"
              className="min-w-0 flex-1 rounded border border-slate-300 px-1 text-xs"
            />
            <button type="submit" className="rounded bg-blue-600 px-2 text-xs text-white">
              Add
            </button>
          </form>
        </div>
      )}
    </div>
  );
}

