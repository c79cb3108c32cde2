// The embedding site's greeting, shown as the first bubble of every conversation.
export function Greeting({ text }) {
  return (
    <div className="flex justify-start px-3 pt-3">
      <p className="max-w-[85%] rounded-2xl bg-slate-100 px-3 py-2 text-sm text-slate-900">{text}</p>
    </div>
  );
}
