import { mount } from 'svelte';
import App from './App.svelte';
import Blocked from './components/Blocked.svelte';
import { tauriBackend } from './ipc/commands';
import './styles.css';

const target = document.getElementById('app');
if (target) {
  // A desk that could not open its data (keyring locked, key lost) shows only why.
  tauriBackend
    .startupProblem()
    .then((problem) => {
      if (problem) mount(Blocked, { target, props: { problem } });
      else mount(App, { target, props: { backend: tauriBackend } });
    })
    .catch(() => mount(App, { target, props: { backend: tauriBackend } }));
}
