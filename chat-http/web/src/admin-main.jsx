// The app's entry: /widget is the customer widget, every /admin path the dashboard.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AdminApp } from './admin/AdminApp.jsx';
import { Widget } from './widget/Widget.jsx';
import './index.css';

const page = window.location.pathname.startsWith('/widget') ? <Widget /> : <AdminApp />;
createRoot(document.getElementById('root')).render(<StrictMode>{page}</StrictMode>);
