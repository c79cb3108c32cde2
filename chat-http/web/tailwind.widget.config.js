// Tailwind scans the app's sources for the classes it uses.
/** @type {import('tailwindcss').Config} */
export default {
  content: ['./app.html', './index.html', './src/**/*.{js,jsx}'],
  theme: { extend: {} },
  plugins: [],
};
