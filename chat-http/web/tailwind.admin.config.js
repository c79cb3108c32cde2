// Tailwind for the dashboard page (src/admin.css): only the classes the dashboard's sources use.
/** @type {import('tailwindcss').Config} */
export default {
  content: ['./admin.html', './src/admin-main.jsx', './src/admin/**/*.{js,jsx}', './src/shared/**/*.{js,jsx}'],
  theme: { extend: {} },
  plugins: [],
};
