// The dashboard page's entry (admin.html, every /admin path): the agents' app only.
import { AdminApp } from './admin/AdminApp.jsx';
import { mount } from './shared/mount.jsx';
import './admin.css';

mount(<AdminApp />);
