import http from 'node:http';
import path from 'node:path';
import next from 'next';
import { loadConfig } from './config.ts';

// One Node process serves the whole product: the Next.js pages, the JSON API and the
// WebSocket terminals, all on one port, so a learner's browser talks to a single origin.
const config = loadConfig();
const dev = process.argv.includes('--dev');
const projectRoot = path.resolve(import.meta.dirname, '..');

const nextApp = next({ dev, dir: projectRoot, hostname: config.host, port: config.port });
const handlePage = nextApp.getRequestHandler();
await nextApp.prepare();

const server = http.createServer((req, res) => {
  handlePage(req, res).catch((error: unknown) => {
    console.error('wirelab: page handler failed', error);
    if (!res.headersSent) res.writeHead(500);
    res.end('Internal error');
  });
});

server.listen(config.port, config.host, () => {
  console.log(`wirelab: ready on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`);
});
