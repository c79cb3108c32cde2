// A conversation's labels as small coloured chips.
export function LabelChips({ labels }) {
  if (labels.length === 0) return null;
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Labels">
      {labels.map((label) => (
        <li
          key={label.id}
          className="label-chip rounded-full border px-1.5 text-[11px] leading-4"
          style={{ borderColor: label.color ?? '#94a3b8', color: label.color ?? '#334155' }}
        >
          {label.title}
        </li>
      ))}
    </ul>
  );
}
