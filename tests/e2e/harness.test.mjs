// The harness's own rules, checked without an app. A wait that binds the port it waits for holds
// that port at the moment the awaited process binds it: on a slow machine tauri-driver then died
// with "can not listen to address". So waiting must probe by connecting and never call listen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, createServer } from 'node:net';
import { waitForPort } from './harness.mjs';

function listening() {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.destroy());
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

test('waitForPort finds a listener by connecting, never by binding its port', async () => {
  const server = await listening();
  const { port } = server.address();
  const bound = [];
  const listen = Server.prototype.listen;
  Server.prototype.listen = function (...args) {
    bound.push(args[0]);
    return listen.apply(this, args);
  };
  try {
    await waitForPort(port, 5_000);
  } finally {
    Server.prototype.listen = listen;
    server.close();
  }
  assert.deepEqual(bound, [], 'waitForPort must not bind any port while it waits');
});

test('waitForPort gives up on a port nobody listens on, within its bound', async () => {
  const server = await listening();
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  await assert.rejects(waitForPort(port, 300), /nothing listens on 127\.0\.0\.1/);
});
