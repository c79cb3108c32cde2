// Tailwind for the widget page (src/widget.css): only the classes the widget's sources use.
/** @type {import('tailwindcss').Config} */
export default {
  content: ['./widget.html', './src/widget-main.jsx', './src/widget/**/*.{js,jsx}', './src/shared/**/*.{js,jsx}'],
  theme: { extend: {} },
  plugins: [],
};
