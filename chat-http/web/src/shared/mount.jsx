// Renders a page's root component into its #root element.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

export function mount(page) {
  createRoot(document.getElementById('root')).render(<StrictMode>{page}</StrictMode>);
}
