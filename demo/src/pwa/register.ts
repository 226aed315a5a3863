// Service worker registration through workbox-window: the first install precaches the app shell and
// the runtime; a later build waits until the user accepts "a new version is ready", then takes over
// and the page reloads once.
import { Workbox } from 'workbox-window';

export interface PwaStatus {
  /** the service worker controls this page and its precache is filled */
  readonly offlineReady: boolean;
}

export function registerPwa(onOfflineReady: () => void, onUpdateWaiting: (accept: () => void) => void): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  const wb = new Workbox('./sw.js', { scope: './' });
  wb.addEventListener('waiting', () => {
    onUpdateWaiting(() => {
      wb.addEventListener('controlling', () => window.location.reload());
      wb.messageSkipWaiting();
    });
  });
  // 'activated' without isUpdate: the first install finished precaching; with a controller already
  // present, the page was already served offline-capable.
  wb.addEventListener('activated', (e) => {
    if (!e.isUpdate) onOfflineReady();
  });
  if (navigator.serviceWorker.controller) onOfflineReady();
  void wb.register();
}
