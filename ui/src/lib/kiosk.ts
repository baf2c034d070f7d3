// A kiosk's screen belongs to the app: no browser context menu (Back, Reload, Inspect) outside
// text fields, no reload or history keys, no printing or opening files. The shell does its part
// (fullscreen, no frame, always on top, no developer tools, no navigation away: see
// src-tauri/src/startup.rs); the operating system's kiosk session does the rest (docs/kiosk.md).

/** Whether `target` is a text field, where the context menu offers cut, copy and paste. */
export function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement) return !target.readOnly;
  if (target instanceof HTMLInputElement) {
    return !target.readOnly && ['text', 'search', 'email', 'tel', 'url', 'number', 'password', ''].includes(target.type);
  }
  return false;
}

/** Whether a key press would reload the page, leave it, print, open, save or inspect it. */
export function isBrowserKey(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'>): boolean {
  const key = e.key.toLowerCase();
  const command = e.ctrlKey || e.metaKey;
  if (['f5', 'f12', 'f7', 'browserback', 'browserforward', 'browserrefresh', 'browserhome'].includes(key)) return true;
  if (e.altKey && ['arrowleft', 'arrowright', 'home'].includes(key)) return true;
  if (command && ['r', 'p', 'o', 's', 'u', 'n', 't', 'w', 'l', 'j', 'h', '[', ']', '+', '=', '-', '0'].includes(key)) return true;
  if (command && e.shiftKey && ['i', 'c', 'j', 'delete'].includes(key)) return true;
  return false;
}

/** Lock the page down; returns the function that undoes it. */
export function lockDown(doc: Document): () => void {
  const menu = (e: MouseEvent) => {
    if (!isTextField(e.target)) e.preventDefault();
  };
  const keys = (e: KeyboardEvent) => {
    if (isBrowserKey(e)) {
      e.preventDefault();
      e.stopPropagation();
    }
  };
  // A dropped file would otherwise be opened in place of the app.
  const drop = (e: DragEvent) => {
    if (!(e.target instanceof HTMLInputElement && e.target.type === 'file')) e.preventDefault();
  };
  const middle = (e: MouseEvent) => {
    if (e.button === 1) e.preventDefault();
  };
  // An on-screen keyboard covers the lower half: keep the field being typed in above it.
  const focus = (e: FocusEvent) => {
    if (isTextField(e.target)) (e.target as HTMLElement).scrollIntoView?.({ block: 'center' });
  };
  doc.addEventListener('focusin', focus, true);
  doc.addEventListener('contextmenu', menu, true);
  doc.addEventListener('keydown', keys, true);
  doc.addEventListener('dragover', drop, true);
  doc.addEventListener('drop', drop, true);
  doc.addEventListener('auxclick', middle, true);
  doc.body.classList.add('kiosk');
  return () => {
    doc.removeEventListener('focusin', focus, true);
    doc.removeEventListener('contextmenu', menu, true);
    doc.removeEventListener('keydown', keys, true);
    doc.removeEventListener('dragover', drop, true);
    doc.removeEventListener('drop', drop, true);
    doc.removeEventListener('auxclick', middle, true);
    doc.body.classList.remove('kiosk');
  };
}

/** The operator's key to open the exit dialog: Ctrl+Alt+O. */
export function isOperatorKey(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'altKey'>): boolean {
  return e.ctrlKey && e.altKey && e.key.toLowerCase() === 'o';
}
