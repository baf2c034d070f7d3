import { afterEach, describe, expect, it } from 'vitest';
import { isBrowserKey, isOperatorKey, isTextField, lockDown } from './kiosk';

const key = (k: string, mods: Partial<KeyboardEvent> = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });

describe('a kiosk locks its page down', () => {
  let undo: (() => void) | null = null;
  afterEach(() => {
    undo?.();
    undo = null;
    document.body.innerHTML = '';
  });

  it('refuses the context menu except in text fields', () => {
    document.body.innerHTML = '<p id="p">text</p><input id="i" type="text"><input id="c" type="checkbox"><textarea id="t"></textarea>';
    undo = lockDown(document);
    const menu = (id: string) => {
      const e = new MouseEvent('contextmenu', { bubbles: true, cancelable: true });
      document.getElementById(id)!.dispatchEvent(e);
      return e.defaultPrevented;
    };
    expect(menu('p')).toBe(true);
    expect(menu('c')).toBe(true);
    expect(menu('i')).toBe(false);
    expect(menu('t')).toBe(false);
    expect(document.body.classList.contains('kiosk')).toBe(true);
  });

  it('refuses reload, history, print and inspector keys but not typing', () => {
    undo = lockDown(document);
    const press = (k: string, mods: Partial<KeyboardEventInit> = {}) => {
      const e = new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true, ...mods });
      document.body.dispatchEvent(e);
      return e.defaultPrevented;
    };
    expect(press('F5')).toBe(true);
    expect(press('r', { ctrlKey: true })).toBe(true);
    expect(press('ArrowLeft', { altKey: true })).toBe(true);
    expect(press('I', { ctrlKey: true, shiftKey: true })).toBe(true);
    expect(press('p', { ctrlKey: true })).toBe(true);
    expect(press('r')).toBe(false);
    expect(press('ArrowLeft')).toBe(false);
    expect(press('Tab')).toBe(false);
    expect(press('Enter')).toBe(false);
    expect(press('a', { ctrlKey: true })).toBe(false);
    undo();
    undo = null;
    expect(press('F5')).toBe(false);
    expect(document.body.classList.contains('kiosk')).toBe(false);
  });

  it('knows text fields and the operator key', () => {
    const ro = document.createElement('input');
    ro.readOnly = true;
    expect(isTextField(ro)).toBe(false);
    expect(isTextField(document.createElement('input'))).toBe(true);
    expect(isTextField(null)).toBe(false);
    expect(isBrowserKey(key('c', { ctrlKey: true }))).toBe(false);
    expect(isOperatorKey(key('O', { ctrlKey: true, altKey: true }))).toBe(true);
    expect(isOperatorKey(key('o', { ctrlKey: true }))).toBe(false);
  });
});
