// Tailwind runs as a PostCSS plugin inside Vite. Each page's stylesheet names its own config
// with @config; these options only serve stylesheets without one (the demo's, no Tailwind in it).
export default { plugins: { tailwindcss: { content: ['./index.html'] } } };
