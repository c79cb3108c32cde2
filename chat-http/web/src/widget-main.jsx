// The widget page's entry (widget.html, /widget in the loader's iframe): the customer widget only.
import { mount } from './shared/mount.jsx';
import { Widget } from './widget/Widget.jsx';
import './widget.css';

mount(<Widget />);
