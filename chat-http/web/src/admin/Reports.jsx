// /admin/reports: satisfaction ratings per agent (counts per score and the average) over a
// chosen period.
import { useCallback, useEffect, useState } from 'react';
import { request } from '../shared/api.js';

const PERIODS = { 7: 'Last 7 days', 30: 'Last 30 days', 0: 'All time' };

function Row({ name, summary }) {
  return (
    <tr className="border-t">
      <th scope="row" className="py-1 pr-2 text-left font-normal">
        {name}
      </th>
      {[1, 2, 3, 4, 5].map((score) => (
        <td key={score} className="px-2 text-center">
          {summary.counts[score]}
        </td>
      ))}
      <td className="px-2 text-center">{summary.total}</td>
      <td className="px-2 text-center font-semibold">{summary.average === null ? '–' : summary.average.toFixed(2)}</td>
    </tr>
  );
}

export function Reports({ token, me }) {
  const [days, setDays] = useState('30');
  const [report, setReport] = useState(null);
  const [names, setNames] = useState({});
  const [error, setError] = useState(null);
  const load = useCallback(async () => {
    const query = new URLSearchParams();
    if (days !== '0') query.set('since', new Date(Date.now() - Number(days) * 86_400_000).toISOString());
    try {
      setReport(await request(`/api/reports/ratings?${query}`, { token }));
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  }, [token, days]);
  useEffect(() => {
    load();
  }, [load]);
  useEffect(() => {
    // Agents' names need manage_admins; without it agents show by id.
    request('/api/admins', { token }).then(
      ({ admins }) => setNames(Object.fromEntries(admins.map((a) => [a.id, a.name]))),
      () => {},
    );
  }, [token]);
  const nameOf = (id) => (id === null ? 'Unassigned' : id === me ? 'You' : (names[id] ?? `Agent ${id.slice(-6)}`));

  return (
    <section className="p-4" aria-label="Ratings report">
      <div className="mb-2 flex items-center justify-between">
        <h2 className="font-semibold">Satisfaction ratings</h2>
        <select aria-label="Period" value={days} onChange={(e) => setDays(e.target.value)} className="rounded border border-slate-300 text-xs">
          {Object.entries(PERIODS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <p role="alert" className="text-xs text-red-700">
          {error}
        </p>
      )}
      {report && (
        <table className="text-sm">
          <thead>
            <tr className="text-xs text-slate-500">
              <th className="text-left font-normal">Agent</th>
              {[1, 2, 3, 4, 5].map((score) => (
                <th key={score} className="px-2 font-normal">
                  {score}
                </th>
              ))}
              <th className="px-2 font-normal">Total</th>
              <th className="px-2 font-normal">Average</th>
            </tr>
          </thead>
          <tbody>
            <Row name="Everyone" summary={report.overall} />
            {report.agents.map((line) => (
              <Row key={line.agentId ?? 'none'} name={nameOf(line.agentId)} summary={line} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
