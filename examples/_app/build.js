// Copies the sources to dist/: the "build" step the multi-stage Dockerfile runs.
const fs = require('fs');
fs.mkdirSync('dist', { recursive: true });
for (const f of fs.readdirSync('src')) fs.copyFileSync(`src/${f}`, `dist/${f}`);
console.log('built dist/');
