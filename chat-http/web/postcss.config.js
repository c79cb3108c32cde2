// Tailwind runs as a PostCSS plugin inside Vite.
export default { plugins: { tailwindcss: {} } };
