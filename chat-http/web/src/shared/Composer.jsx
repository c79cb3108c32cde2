// Writing a message: a text box (Enter sends, Shift+Enter breaks the line), file attachments
// uploaded at once with a progress bar and a clear error when refused, and, for agents, a
// "private note" switch and canned replies (`/` opens a picker; arrows move, Enter or Tab
// inserts, Escape closes).
import { useId, useRef, useState } from 'react';
import { fileSize } from './format.js';
import { PaperclipIcon } from './icons.jsx';
import { useSuggestions } from './useSuggestions.js';

export function Composer({ onSend, onTyping, onUpload, suggest, allowNotes = false, disabled = false, placeholder }) {
  const [text, setText] = useState('');
  const [attachments, setAttachments] = useState([]);
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const [isPrivate, setPrivate] = useState(false);
  const fileInput = useRef(null);
  const textId = useId();
  const pickerId = useId();
  const uploading = progress !== null;
  const picker = useSuggestions(text, suggest);

  async function attach(event) {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    setError(null);
    setProgress(0);
    try {
      const uploaded = await onUpload(file, setProgress);
      setAttachments((list) => [...list, uploaded]);
    } catch (e) {
      setError(`${file.name} was not attached: ${e.message}`);
    } finally {
      setProgress(null);
    }
  }

  function submit(event) {
    event.preventDefault();
    const body = text.trim() || attachments.map((a) => a.fileName).join(', ');
    if (!body || uploading || disabled) return;
    onSend(body, attachments, isPrivate);
    setText('');
    setAttachments([]);
    setError(null);
  }

  function keyDown(event) {
    const picked = picker.key(event);
    if (picked) {
      event.preventDefault();
      if (typeof picked === 'object') setText(picked.filled ?? picked.content);
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  }

  return (
    <form onSubmit={submit} className={`border-t p-2 ${isPrivate ? 'bg-amber-50' : 'bg-white'}`}>
      {attachments.length > 0 && (
        <ul className="mb-1 flex flex-wrap gap-1" aria-label="Attached files">
          {attachments.map((a) => (
            <li key={a.id} className="flex items-center gap-1 rounded bg-slate-100 px-2 py-0.5 text-xs">
              {a.fileName} ({fileSize(a.fileSize)})
              <button
                type="button"
                aria-label={`Remove ${a.fileName}`}
                onClick={() => setAttachments((list) => list.filter((x) => x.id !== a.id))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {uploading && (
        <div className="mb-1 h-1.5 w-full rounded bg-slate-200" role="progressbar" aria-label="Uploading" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(progress * 100)}>
          <div className="h-1.5 rounded bg-[var(--accent)]" style={{ width: `${Math.round(progress * 100)}%` }} />
        </div>
      )}
      {error && (
        <p role="alert" className="mb-1 text-xs text-red-700">
          {error}
        </p>
      )}
      {allowNotes && (
        <label className="mb-1 flex items-center gap-1 text-xs text-slate-700">
          <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} />
          Private note (only agents see it)
        </label>
      )}
      {picker.open && (
        <ul id={pickerId} role="listbox" aria-label="Canned replies" className="mb-1 max-h-48 overflow-y-auto rounded border bg-white text-sm shadow">
          {picker.items.map((item, index) => (
            <li
              key={item.id}
              id={`${pickerId}-${index}`}
              role="option"
              aria-selected={index === picker.active}
              onMouseDown={(e) => {
                e.preventDefault();
                setText(item.filled ?? item.content);
              }}
              className={`cursor-pointer px-2 py-1 ${index === picker.active ? 'bg-blue-50' : ''}`}
            >
              <span className="font-mono text-xs text-blue-700">/{item.shortCode}</span>{' '}
              <span className="text-slate-600">{item.filled ?? item.content}</span>
            </li>
          ))}
        </ul>
      )}
      <div className="flex items-end gap-2">
        <input ref={fileInput} type="file" className="hidden" onChange={attach} aria-hidden="true" tabIndex={-1} data-testid="file-input" />
        <button
          type="button"
          onClick={() => fileInput.current.click()}
          disabled={disabled || uploading}
          className="rounded p-2 text-slate-600 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-[var(--accent)] disabled:opacity-40"
          aria-label="Attach a file"
        >
          <PaperclipIcon />
        </button>
        <label htmlFor={textId} className="sr-only">
          {isPrivate ? 'Private note' : 'Message'}
        </label>
        <textarea
          id={textId}
          rows={1}
          value={text}
          disabled={disabled}
          placeholder={isPrivate ? 'Write a private note…' : placeholder}
          onChange={(e) => {
            setText(e.target.value);
            if (!isPrivate) onTyping();
          }}
          onKeyDown={keyDown}
          aria-controls={picker.open ? pickerId : undefined}
          aria-autocomplete={suggest ? 'list' : undefined}
          aria-activedescendant={picker.open ? `${pickerId}-${picker.active}` : undefined}
          className="max-h-32 min-h-[2.5rem] flex-1 resize-none rounded border border-slate-300 px-2 py-2 text-sm focus:border-[var(--accent)] focus:outline-none focus:ring-1 focus:ring-[var(--accent)] disabled:bg-slate-100"
        />
        <button
          type="submit"
          disabled={disabled || uploading}
          className="rounded bg-[var(--accent)] px-3 py-2 text-sm font-medium text-white focus:outline-none focus:ring-2 focus:ring-offset-1 focus:ring-[var(--accent)] disabled:opacity-40"
        >
          Send
        </button>
      </div>
    </form>
  );
}
