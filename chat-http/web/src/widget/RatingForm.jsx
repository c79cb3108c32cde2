// Asking the visitor how it went once the conversation is closed: 1–5 (a radio group, so
// the keyboard works) and an optional comment. A rating can be changed for 7 days.
import { useState } from 'react';
import { request } from '../shared/api.js';

const WORDS = ['Very bad', 'Bad', 'OK', 'Good', 'Great'];

export function RatingForm({ token, conversationId, rating }) {
  const [given, setGiven] = useState(rating ?? null);
  const [editing, setEditing] = useState(!rating);
  const [score, setScore] = useState(rating?.rating ?? null);
  const [comment, setComment] = useState(rating?.comment ?? '');
  const [error, setError] = useState(null);
  // A rating seen live carries no deadline yet: the server still decides.
  const changeable = !given?.changeableUntil || new Date(given.changeableUntil) > new Date();

  async function submit(event) {
    event.preventDefault();
    if (!score) return;
    try {
      const body = { rating: score, comment: comment.trim() || undefined };
      const answer = await request(`/api/conversations/${conversationId}/rating`, { method: 'POST', token, body });
      setGiven(answer.conversation.rating);
      setEditing(false);
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  }

  if (!editing) {
    return (
      <p className="rating-thanks mt-2 text-xs text-slate-600">
        Thanks for your feedback ({given.rating}/5).{' '}
        {changeable && (
          <button type="button" className="underline" onClick={() => setEditing(true)}>
            Change
          </button>
        )}
      </p>
    );
  }
  return (
    <form onSubmit={submit} className="mt-2 text-left" aria-label="Rate this conversation">
      <fieldset>
        <legend className="text-xs font-medium">How was this conversation?</legend>
        <div className="mt-1 flex justify-center gap-1">
          {WORDS.map((word, index) => (
            <label key={word} className="cursor-pointer">
              <input type="radio" name="rating" value={index + 1} checked={score === index + 1} onChange={() => setScore(index + 1)} className="peer sr-only" aria-label={`${index + 1}: ${word}`} />
              <span className="block rounded border px-2 py-1 text-sm peer-checked:bg-[var(--accent)] peer-checked:text-white peer-focus-visible:ring-2 peer-focus-visible:ring-[var(--accent)]">{index + 1}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <label className="mt-2 block text-xs">
        Comment (optional)
        <textarea value={comment} onChange={(e) => setComment(e.target.value)} maxLength={1000} rows={2} className="mt-1 w-full rounded border border-slate-300 p-1 text-sm" />
      </label>
      {error && (
        <p role="alert" className="text-xs text-red-700">
          {error}
        </p>
      )}
      <button type="submit" disabled={!score} className="mt-1 rounded border border-slate-300 px-2 py-1 text-xs disabled:opacity-40">
        Send rating
      </button>
    </form>
  );
}
