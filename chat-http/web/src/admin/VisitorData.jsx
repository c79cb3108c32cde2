// A visitor's data on request, from the conversation's header (agents with
// `manageVisitorData`): "Export data" downloads the visitor's JSON lines; "Erase visitor"
// (after a confirmation) erases the visitor and all its conversations.
import { blobUrl, request } from '../shared/api.js';

const BUTTON =
  'rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-blue-600';

export function VisitorData({ customerId, token, onErased, onError }) {
  const path = `/api/visitors/${customerId}`;

  async function exportData() {
    try {
      const url = await blobUrl(`${path}/export`, token);
      const link = document.createElement('a');
      link.href = url;
      link.download = `visitor-${customerId}.jsonl`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      onError(null);
    } catch (e) {
      onError(e.message);
    }
  }

  async function erase() {
    const question =
      'Erase this visitor? Their record, every conversation they started (replies and notes included) and their files are deleted for good.';
    if (!window.confirm(question)) return;
    try {
      await request(path, { method: 'DELETE', token });
      onErased();
    } catch (e) {
      onError(e.message);
    }
  }

  return (
    <span className="flex items-center gap-1">
      <button type="button" onClick={exportData} className={BUTTON}>
        Export data
      </button>
      <button type="button" onClick={erase} className={`${BUTTON} text-red-700`}>
        Erase visitor
      </button>
    </span>
  );
}
