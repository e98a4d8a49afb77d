import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('renderer/index.html has no #app element to mount into');

// The access token travels in the fragment; a new one pasted into the address bar changes only
// the fragment, which does not reload the page by itself.
window.addEventListener('hashchange', () => window.location.reload());

export default mount(App, { target });
