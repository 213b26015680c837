/** The seller console's entry: renders the app into the page (console/src, built by scripts/console/build.ts). */
import { render } from 'preact';
import { App } from './App.tsx';
import './style.css';

render(<App />, document.getElementById('app')!);
