// The static server of `npm start` and the browser tests, probed with real HTTP on 127.0.0.1: a
// path through a file (ENOTDIR) or 5 000 characters long (ENAMETOOLONG) threw inside the request
// handler and took the process down, collector included. Now every request gets an answer, and
// nothing outside the served folders, no dotfile and no .git is ever read.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startStaticServer, type StaticServer } from '../../scripts/browser/static-server.ts';

let server: StaticServer;
let port: number;

before(async () => {
  const base = mkdtempSync(join(tmpdir(), 'kiln-static-'));
  const root = join(base, 'site');
  const outside = join(base, 'secret');
  const mounted = join(base, 'mounted');
  for (const d of [root, outside, mounted, join(root, 'sub'), join(root, '.git')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>ok</title>');
  writeFileSync(join(root, 'sub', 'page.js'), 'export {};');
  writeFileSync(join(root, 'sub', '.hidden'), 'HIDDEN-CONTENT');
  writeFileSync(join(root, '.env'), 'TOKEN=1');
  writeFileSync(join(root, '.git', 'config'), '[core]');
  writeFileSync(join(outside, 'key.txt'), 'SECRET-CONTENT');
  writeFileSync(join(mounted, 'data.json'), '{"ok":true}');
  symlinkSync(join(outside, 'key.txt'), join(root, 'leak.txt')); // a link leading out of the root
  symlinkSync(outside, join(root, 'leakdir'));
  symlinkSync(join(root, 'sub', 'page.js'), join(root, 'alias.js')); // a link that stays inside
  server = await startStaticServer({
    root,
    mounts: { '/m/': mounted },
    routes: {
      '/boom.json': () => {
        throw new Error('a route that fails');
      },
    },
  });
  port = Number(new URL(server.url).port);
});
after(() => server.close());

/** Raw GET: the path goes out exactly as written (fetch would normalize it). */
function get(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('paths that made the handler throw are answered, and the server keeps serving', async () => {
  assert.equal((await get('/index.html/x')).status, 404); // ENOTDIR
  assert.equal((await get('/sub/page.js/deeper/still')).status, 404);
  assert.equal((await get(`/${'a'.repeat(5000)}`)).status, 414); // ENAMETOOLONG before
  assert.equal((await get(`/${'a'.repeat(300)}/${'b'.repeat(300)}.js`)).status, 404); // a component over NAME_MAX
  assert.equal((await get('/%E0%A4%A')).status, 400); // broken percent-encoding
  assert.equal((await get('/a%00b')).status, 400);
  assert.equal((await get('/boom.json')).status, 500);
  assert.equal((await get('/index.html', 'DELETE')).status, 405);
  const ok = await get('/index.html');
  assert.equal(ok.status, 200);
  assert.match(ok.body, /<title>ok<\/title>/);
});

test('dotfiles, .git and traversal are never served', async () => {
  for (const path of ['/.env', '/.git/config', '/.git/', '/sub/.hidden', '/%2e%2e/secret/key.txt', '/sub/../../secret/key.txt', '/%2e%67it/config', '/m/../.env']) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(r.body, /TOKEN|\[core\]|SECRET-CONTENT|HIDDEN-CONTENT/, path);
  }
});

test('symlinks that leave the served folder are refused; those inside it are followed', async () => {
  assert.equal((await get('/leak.txt')).status, 404);
  assert.equal((await get('/leakdir/key.txt')).status, 404);
  const alias = await get('/alias.js');
  assert.equal(alias.status, 200);
  assert.equal(alias.body, 'export {};');
  assert.equal((await get('/m/data.json')).body, '{"ok":true}');
  assert.equal((await get('/')).status, 200); // a folder serves its index.html
});
